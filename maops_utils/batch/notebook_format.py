"""nbformat and nbconvert, imported without the IRI format checker jsonschema would load.

nbformat validates notebooks with jsonschema. Installed with Jupyter, jsonschema's format
checkers include one for the `iri` and `iri-reference` formats built on `rfc3987-syntax`,
which compiles about thirty Earley grammars when it is imported: 3 s on a 2-core machine,
paid by every `maops run` before any work (python-jsonschema/jsonschema#1428). No notebook
schema uses those formats. So when this module is the first to import jsonschema, it leaves
that one checker out (jsonschema skips a checker whose library cannot be imported); anything
imported later, `rfc3987_syntax` included, imports as usual.
"""

from __future__ import annotations

import sys


def _import_jsonschema_without_iri_checker() -> None:
    if "jsonschema" in sys.modules or "rfc3987_syntax" in sys.modules:
        return  # already imported: nothing to save
    sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        import jsonschema  # noqa: F401
    finally:
        del sys.modules["rfc3987_syntax"]


_import_jsonschema_without_iri_checker()

import nbformat  # noqa: E402
from nbconvert import HTMLExporter  # noqa: E402

__all__ = ["HTMLExporter", "nbformat"]
