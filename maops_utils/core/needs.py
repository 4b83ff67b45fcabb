"""What a report asks of the batch besides running its notebook.

A report declares it once, as `NEEDS` in its package (`maops_utils/reports/<name>/__init__.py`).
The batch reads the declarations of the report packages a notebook imports
(`batch/notebooks.py`): a new notebook that uses a report gets what the report needs, and no
list anywhere names notebooks.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Needs:
    """`preload`: modules imported ahead in the notebook's kernel besides the notebook's own
    imports (a library the report's functions import only when called). `prepare`: work the
    batch may do ahead, in a process of its own while other notebooks run, as (item,
    "module:function") pairs; the function takes (dataset, params_dir, month) and keeps its
    result in the cache, where the report's own functions find it."""

    preload: tuple[str, ...] = ()
    prepare: tuple[tuple[str, str], ...] = ()

    def __or__(self, other: Needs) -> Needs:
        return Needs(
            tuple(dict.fromkeys((*self.preload, *other.preload))),
            tuple(dict.fromkeys((*self.prepare, *other.prepare))),
        )

    @property
    def items(self) -> tuple[str, ...]:
        """The names of the work to prepare ahead."""
        return tuple(item for item, _ in self.prepare)
