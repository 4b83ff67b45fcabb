"""What must not leave the building: the e-mail addresses a report would show (a run refuses to
publish one that does, unless `--include-pii`)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import MaopsError


class PersonalDataFound(MaopsError):
    """The report would have shown personal data; it was not published."""


_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


def mask_email(text: str) -> str:
    local, _, domain = text.partition("@")
    return f"{local[:1]}***@{domain}"


# `_EMAIL` matching a whole value in Arrow's RE2, as `fullmatch` does in Python (RE2's `$`
# without multi-line mode is the end of the text only: no newline may follow either).
_EMAIL_WHOLE = f"^(?:{_EMAIL.pattern})$"


def unusual_addresses(values: pd.Series) -> set[str]:
    """The addresses among `values` that the generic pattern does not match whole: the only
    ones `find_personal_data` looks for one by one (the pattern finds the others), so a run
    keeps these rather than every lead's address while notebooks run. The distinct values
    are matched in Arrow, much faster than in Python (docs/scale.md)."""
    text = pa.array(values.dropna().astype("str").array, type=pa.large_string()).unique()
    whole = pc.match_substring_regex(text, _EMAIL_WHOLE)
    # a value without "@" ("なし", "-") is no address: searching for it would flag any report
    # that shows that text
    odd = pc.filter(text, pc.and_(pc.invert(whole), pc.match_substring(text, "@")))
    return set(odd.to_pylist())


def find_personal_data(folder: Path, known_emails: set[str]) -> list[str]:
    """E-mail addresses in any text file under `folder` (the generic pattern, and the exact
    addresses of the dataset), as `file: masked address` lines."""
    hits = []
    # An address the generic pattern matches whole is found by it wherever it appears, so
    # only the others are searched for one by one (that search is slow with many leads).
    odd = unusual_addresses(pd.Series(sorted(known_emails), dtype="str"))
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in (
            ".html",
            ".csv",
            ".json",
            ".ipynb",
            ".log",
            ".yaml",
            ".txt",
        ):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if "@" not in text:  # every address has one, and a table is searched for it quickly
            continue
        found = set(_EMAIL.findall(text)) | {e for e in odd if e in text}
        if found:
            sample = ", ".join(sorted(mask_email(e) for e in found)[:3])
            hits.append(f"{path.relative_to(folder)}: {len(found)} address(es), e.g. {sample}")
    return hits
