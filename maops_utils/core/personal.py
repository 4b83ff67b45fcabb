"""Personal data as text shows it: the shapes of e-mail addresses and telephone numbers, and
how a message masks them. One rule for every place that prints or publishes text: the
findings (terminal, `run.log`, `run.json`, the reports) and the publishing scan
(`batch/privacy.py`)."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Telephone numbers as people write them: Japanese (0X-XXXX-XXXX, 090XXXXXXXX) and
# international (+81 3 1234 5678, +1-202-555-0143). A date (2026-10-05) or an amount never
# starts with 0 or +.
PHONE = re.compile(
    r"(?<![\w.+-])(?:\+\d{1,3}[\s-]?\(?\d{1,4}\)?(?:[\s-]?\d{2,4}){2,3}"
    r"|0\d{1,4}-\d{1,4}-\d{3,4}|0[5789]0\d{8}|0\d{9})(?![\w.-])"
)


def plain(text: str) -> str:
    """Text as a reader sees it: full-width letters and ＠ folded (NFKC), URL escapes decoded."""
    text = unicodedata.normalize("NFKC", text)
    return unquote(text) if "%" in text else text


def mask_email(text: str) -> str:
    local, _, domain = text.partition("@")
    return f"{local[:1]}***@{domain}"


def mask(text: str) -> str:
    """A personal value as a message may quote it: its first character and stars."""
    return f"{text[:1]}{'*' * max(len(text) - 1, 2)}"


def mask_personal(text: str) -> str:
    """`text` with every e-mail address and telephone number in it masked (in the form a
    reader sees: full-width and URL-encoded ones too); unchanged when it holds none."""
    if not isinstance(text, str) or not text:
        return text
    seen = plain(text)
    if not (EMAIL.search(seen) or PHONE.search(seen)):
        return text
    return PHONE.sub(lambda m: mask(m.group()), EMAIL.sub(lambda m: mask_email(m.group()), seen))
