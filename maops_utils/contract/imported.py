"""What `maops import` records beside the tables it writes (`import.json`) that a run must
respect: the zone the timestamps are local time in, and the currency of the amounts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..core.errors import ConfigError, Finding, TimezoneMismatch
from ..core.i18n import finding
from ..core.schema import UNKNOWN_SOURCE
from .dataset import Dataset

IMPORT_RECORD = "import.json"  # what `maops import` writes beside the tables it wrote


@dataclass(frozen=True)
class ImportZone:
    """What a dataset's `import.json` records of time: the zone its timestamps are written
    in, and the zone the import's mapping declared for the exports' own timestamps (None:
    the mapping declared none, so they were read in the import's zone)."""

    path: Path
    timezone: str
    source_timezone: str | None = None


def _known_zone(zone: object) -> bool:
    if not isinstance(zone, str) or not zone:
        return False
    try:
        pd.Timestamp("2020-01-01").tz_localize(zone)
    except Exception:
        return False
    return True


def import_zone(data_dir: Path) -> ImportZone | None:
    """The zone `data_dir/import.json` records; None without that file, or for one written
    before imports recorded their zone: such a dataset is read as any other, in the run's."""
    path = Path(data_dir) / IMPORT_RECORD
    redo = (
        "it is written by maops import: import the exports again, or remove the file to read "
        "the tables in the run's time zone"
    )
    if not path.is_file():
        return None  # only looked at: a warm load opens no file of the input
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path} cannot be read ({exc}); {redo}") from None
    if not isinstance(record, dict):
        raise ConfigError(f"{path} does not hold the record of an import; {redo}")
    zone, source = record.get("timezone"), record.get("source_timezone")
    if zone is None:
        return None
    for key, value in (("timezone", zone), ("source_timezone", source)):
        if not (value is None and key == "source_timezone") and not _known_zone(value):
            raise ConfigError(
                f"{path}: {key} {value!r} is not a known time zone (e.g. Asia/Tokyo); {redo}"
            )
    return ImportZone(path, zone, source)


def check_import_zone(data_dir: Path, timezone: str) -> ImportZone | None:
    """`import_zone(data_dir)`, refused when it is not `timezone`, the zone the run reads in.

    The import wrote local times in its zone and nothing in the tables says which: read in
    another zone, every row would fall into the day and the month of that one. Converting
    them silently would make a report whose months differ from the user's setting; the user
    chooses instead, and the message says how."""
    recorded = import_zone(data_dir)
    if recorded is None or recorded.timezone == timezone:
        return recorded
    zone = recorded.timezone
    raise TimezoneMismatch(
        f"{recorded.path} records that the dataset's timestamps are local time in {zone} "
        f"(the zone maops import wrote them in), but this run reads them in {timezone}: rows "
        f"would fall into other days and months, so the dataset was not read. Read it in "
        f"{zone}: pass --timezone {zone} (in a notebook: the parameter timezone='{zone}'), "
        f"or set `timezone: {zone}` in params/run.yaml; or import the exports again with "
        f"--timezone {timezone} to have them in {timezone}."
    )


def check_currency(data_dir: Path, currency: str, spend: pd.DataFrame | None = None) -> None:
    """Refuse to write amounts in `currency`, the run's, when the dataset's are in another:
    the currency its import's mapping declared (`import.json`), or that of its spend rows.
    maops converts no amount, and a symbol of another currency beside them would misstate
    every one."""
    found: dict[str, str] = {}
    record = _record(data_dir)
    if record.get("currency"):
        found[str(record["currency"])] = f"{Path(data_dir) / IMPORT_RECORD} (the import's mapping)"
    if spend is not None and "currency" in spend:
        for code in spend["currency"].dropna().unique():
            found.setdefault(str(code), f"the currency column of {Path(data_dir) / 'spend'}")
    other = {code: where for code, where in found.items() if code != currency}
    if not other:
        return
    if len(found) > 1:
        listed = "; ".join(f"{code} in {where}" for code, where in found.items())
        raise ConfigError(
            f"the dataset's amounts are in several currencies ({listed}); maops converts none: "
            "convert them to one before importing"
        )
    code, where = next(iter(other.items()))
    raise ConfigError(
        f"{where} says the dataset's amounts are in {code}, but this run writes amounts in "
        f"{currency}: every amount would carry the wrong currency, so the dataset was not "
        f"read. Pass --currency {code} (in a notebook: the parameter currency='{code}'), or set "
        f"`currency: {code}` in params/run.yaml."
    )


def _record(data_dir: Path) -> dict:
    path = Path(data_dir) / IMPORT_RECORD
    if not path.is_file():
        return {}  # only looked at: a warm load opens no file of the input
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # damaged: import_zone, which reads it first, says so
    return record if isinstance(record, dict) else {}


def unmapped_codes(data_dir: Path, dataset: Dataset) -> list[Finding]:
    """Warnings for values of a coded field that the import's mapping does not give it
    (`import.json`'s `codes`): a vendor code the mapping kept as it was (`others: keep`), or a
    table edited since the import. The contract's own codes (activity types, stages,
    statuses) are checked by the contract whatever wrote them; a lead without a source is
    `unknown` by the contract."""
    codes = _record(data_dir).get("codes")
    if not isinstance(codes, dict):
        return []
    out = []
    for key, allowed in codes.items():
        table, _, column = str(key).partition(".")
        if not dataset.has(table) or dataset.in_store(table) or not isinstance(allowed, list):
            continue
        frame = dataset[table]
        if column not in frame:
            continue
        values = frame[column].dropna().astype(str)
        other = values[~values.isin([*map(str, allowed), UNKNOWN_SOURCE])]
        if other.empty:
            continue
        counts = other.value_counts()
        shown = ", ".join(f"{v!r} ({n:,})" for v, n in counts.head(5).items())
        out.append(
            finding(
                "warning",
                table,
                "unmapped_codes",
                file=str(dataset.sources.get(table, {}).get("path", "")),
                column=column,
                count=len(other),
                n=f"{len(other):,}",
                shown=shown + (", ..." if len(counts) > 5 else ""),
                where=f"{table}.{column}",
            )
        )
    return out
