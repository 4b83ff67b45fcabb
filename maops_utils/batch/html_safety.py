"""What a report page may load and link to: nothing from the network (a page is forwarded
and opened offline), and no link that a data value wrote.

Pure functions over BeautifulSoup trees; `batch/html.py` applies them to every page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Tag

__all__ = ["is_external", "strip_external_references", "unlink_data"]

_EXTERNAL_URL = re.compile(r"^\s*(?:[a-z][a-z0-9+.\-]*:)?//", re.IGNORECASE)
# Attributes that make a browser fetch something on its own (an <a href> does not).
_FETCH_ATTRS = ("src", "href", "xlink:href", "srcset", "data", "poster", "background", "lowsrc")
_NO_FETCH_TAGS = frozenset({"a", "area"})
_DROP_TAGS = frozenset({"script", "link", "base", "meta", "track"})
_REPLACE_WITH_LINK_TAGS = frozenset(
    {"img", "iframe", "frame", "embed", "object", "video", "audio", "source", "input"}
)
_CSS_IMPORT = re.compile(r"@import\s+(?:url\(\s*)?['\"]?\s*(?:[a-z][a-z0-9+.\-]*:)?//[^;]*;?", re.I)
_CSS_URL = re.compile(r"url\(\s*['\"]?\s*(?:[a-z][a-z0-9+.\-]*:)?//[^)]*\)", re.IGNORECASE)


def is_external(value: str, *, srcset: bool = False) -> bool:
    """True for absolute URLs with a host (http:, https:, ftp:, protocol-relative ...)."""
    if not value:
        return False
    if srcset:  # "url 1x, url 2x": any external candidate counts
        return any(_EXTERNAL_URL.match(part) for part in value.split(","))
    return bool(_EXTERNAL_URL.match(value))


def _clean_css(text: str) -> str:
    return _CSS_URL.sub("none", _CSS_IMPORT.sub("", text))


def strip_external_references(soup: BeautifulSoup, labels: Mapping[str, str]) -> None:
    """Remove or defuse everything in the page that would make a network request."""
    for el in list(soup.find_all(True)):
        if el.decomposed or el.name in _NO_FETCH_TAGS:
            continue
        external = {
            a: el.get(a)
            for a in _FETCH_ATTRS
            if is_external(str(el.get(a) or ""), srcset=a == "srcset")
        }
        if external:
            if el.name in _DROP_TAGS:
                el.decompose()
                continue
            if el.name in _REPLACE_WITH_LINK_TAGS:
                url = (
                    next((str(v) for k, v in external.items() if k != "srcset"), None)
                    or str(external["srcset"]).split(",")[0].split()[0]
                )
                what = labels["external_image"] if el.name == "img" else labels["external_content"]
                alt = str(el.get("alt") or "").strip()
                link = soup.new_tag("a", href=url.strip(), attrs={"class": "maops-external"})
                link.string = f"[{alt}] {what}" if alt else f"[{what}]"
                el.replace_with(link)
                continue
            for attr in external:
                del el[attr]
        if el.name == "style" and el.string:
            el.string = _clean_css(str(el.string))
        if el.has_attr("style"):
            el["style"] = _clean_css(str(el["style"]))


# Links a report may hold: to another place in the page, and, in the text its authors wrote
# (markdown cells), to the web. A link elsewhere, or any link in what code printed from the
# data, is text.
_AUTHORED = ("jp-MarkdownCell",)
_LINK_SCHEMES = ("http", "https")


def unlink_data(soup: BeautifulSoup | Tag) -> None:
    """Turn into plain text every link that is not a fragment (`#...`), a relative path, or,
    in an authored markdown cell, an http(s) address: a `javascript:` or `data:` link is never
    kept, and no output of code (where strings from the data are) links anywhere but within
    the page."""
    for a in list(soup.find_all("a")):
        href = str(a.get("href") or "").strip()
        if not href or href.startswith("#"):
            continue
        parts = urlsplit(href)
        authored = a.find_parent(class_=_AUTHORED) is not None
        relative = not parts.scheme and not parts.netloc and not href.startswith(("/", "\\"))
        if (relative and authored) or (authored and parts.scheme.lower() in _LINK_SCHEMES):
            continue
        a.unwrap()
