"""Importers: vendor exports (Eloqua, Marketo, HubSpot, Salesforce, any CSV through a mapping
file) to a dataset in data contract v1.

```python
from maops_utils.importers import load_mapping, import_exports, write_import

result = import_exports("exports/hubspot", load_mapping("hubspot"))
dataset = write_import(result, "data/hubspot")      # validated before it is published
```

Which vendor code maps to which contract value lives in `params/mappings/*.yaml`; see
docs/importers.md for the files each vendor exports and how they are mapped.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path

from ..contract.dataset import Dataset
from ..contract.imported import IMPORT_RECORD
from ..contract.load import load_dataset
from ..core import io
from ..core.errors import ConfigError
from ..core.schema import TABLES
from .convert import ImportResult, import_exports
from .mapping import Mapping, available_sources, load_mapping

__all__ = [
    "ImportResult",
    "Mapping",
    "available_sources",
    "import_exports",
    "load_mapping",
    "remove_leftovers",
    "with_contact_ids",
    "write_import",
]

# Files an import may replace in an existing output folder: a dataset and its import log.
_OWN_FILES = frozenset({f"{t}.{ext}" for t in TABLES for ext in ("csv", "parquet")}) | {
    IMPORT_RECORD
}

# An import builds its dataset in `.<out>.import-*` beside `out`, a name no run uses, so that
# any import may tell the leftovers of killed imports from anything else in that folder.
STAGING = "import"


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr)


def remove_leftovers(out_dir: str | Path, log: Callable[[str], None] = _to_stderr) -> list[str]:
    """Clean up after imports that were killed (SIGKILL, a power cut): the folders they were
    building beside `out_dir` hold personal data and will never be published, whichever
    dataset of that folder they were for. A dataset left aside mid-swap is put back. A folder
    a live import still builds is left alone (it holds a lock on it until it ends), and so is
    a folder holding anything but dataset files. Each thing done is passed to `log` and
    returned."""
    out = Path(out_dir)
    # `.<out>.tmp-*`: where imports built before they had a staging name of their own
    notes = io.recover_dir(out, by="import")
    if out.parent.is_dir():
        notes += io.remove_leftovers(out.parent, f".*.{STAGING}-*", by="import", names=_OWN_FILES)
    for note in notes:
        log(note)
    return notes


def with_contact_ids(result: ImportResult, *, threshold: float = 0.8) -> ImportResult:
    """The result with `leads.contact_id` filled by 名寄せ (see `maops_utils.contract.dedupe`)."""
    from ..contract.dedupe import assign_contact_ids, candidate_pairs

    leads = result.tables["leads"]
    pairs = candidate_pairs(leads, min_confidence=threshold)
    tables = {**result.tables, "leads": assign_contact_ids(leads, pairs, threshold=threshold)}
    return dataclasses.replace(result, tables=tables)


def write_import(
    result: ImportResult,
    out_dir: str | Path,
    *,
    timezone: str | None = None,
    dedupe: bool = False,
    log: Callable[[str], None] = _to_stderr,
) -> Dataset:
    """Write an import as a dataset folder, after checking it against the data contract.

    The folder is built beside `out_dir` and swapped in only when the contract check passed, so
    a failed import leaves the previous dataset as it was. A folder holding anything but
    dataset files is refused rather than replaced. Leftovers of killed imports beside it are
    removed first (`remove_leftovers`).

    Args:
        result: from `import_exports`.
        out_dir: the dataset folder to write (`leads.csv`, ..., and `import.json`, which
            records the zone the timestamps are in: a run in another zone is refused).
        timezone: the zone the import converted timestamps to; unset, the result's
            (`import_exports(timezone=...)`), which is the only one accepted.
        dedupe: fill `contact_id` by 名寄せ before writing.
        log: where what was cleaned up is said (default: standard error).

    Returns:
        The validated `Dataset` as read back from the written files.

    Raises:
        ConfigError: `out_dir` holds other files, or `timezone` is not the result's.
        DataContractError: the imported tables break the contract (nothing is written).
    """
    out = Path(out_dir)
    zone = result.timezone
    if timezone is not None and timezone != zone:
        raise ConfigError(
            f"write_import: timezone '{timezone}' is not the zone the import converted its "
            f"timestamps to ('{zone}', import_exports' timezone); leave timezone unset, or "
            f"import again with timezone='{timezone}'"
        )
    if out.exists():
        if not out.is_dir():
            raise ConfigError(f"--out '{out}' is a file; name a folder for the dataset")
        other = sorted(p.name for p in out.iterdir() if p.name not in _OWN_FILES)
        if other:
            raise ConfigError(
                f"--out '{out}' already holds other files ({', '.join(other[:5])}); "
                "name an empty or new folder (an import replaces the whole dataset folder)"
            )
    remove_leftovers(out, log)
    if dedupe:
        result = with_contact_ids(result)
    with io.staging_dir(out, kind=STAGING) as stage:
        io.write_dataset(result.tables, stage)
        load_dataset(stage, timezone=zone)  # raises on anything fatal: nothing is published
        io.write_json(
            {
                "source": result.source,
                # the timestamps written are local time in this zone; a run in another one
                # is refused (contract/imported.py, check_import_zone)
                "timezone": zone,
                "source_timezone": result.source_timezone or None,
                # the amounts' currency as the mapping declared it; a run in another one is
                # refused (contract/imported.py, check_currency)
                "currency": result.currency or None,
                # the codes the mapping gives each coded field: any other value found there
                # later is a finding (contract/imported.py, unmapped_codes)
                "codes": result.codes,
                "files": result.files,
                "rows": {name: len(frame) for name, frame in result.tables.items()},
                "findings": [f.as_dict() for f in result.findings],
            },
            stage / IMPORT_RECORD,
        )
        io.publish_dir(stage, out)
    return load_dataset(out, timezone=zone)
