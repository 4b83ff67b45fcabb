"""What a company's codes mean (`params/labels.yaml`): the names of its products, its channels
(lead_source), its activity types and categories, and the values of the lead attributes its
scoring reads, in Japanese and English: the reports show these names in their tables, charts
and sentences, and list the codes beside them in the glossary; the CSV files keep the codes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import ConfigError, suggest
from ..core.i18n import TEXT, t
from ..core.io import load_yaml
from ..core.schema import ACTIVITY_TYPES, UNKNOWN_SOURCE
from .stages import bilingual

# the sections of labels.yaml that name one column's codes: the column each one names
SECTIONS = {
    "products": "product",
    "lead_sources": "lead_source",
    "activity_types": "activity_type",
    "activity_categories": "category",
}
# attribute -> value -> name; an attribute that has a section of its own is named by it
ATTRIBUTES = "attributes"
_OWN_SECTION = {column: section for section, column in SECTIONS.items()}

Names = dict[str, tuple[str, str]]


@dataclass(frozen=True)
class Labels:
    """Code -> (ja, en) per section; a code without a label is left out ("" in the file)."""

    products: Names = field(default_factory=dict)
    lead_sources: Names = field(default_factory=dict)
    activity_types: Names = field(default_factory=dict)
    activity_categories: Names = field(default_factory=dict)
    attributes: dict[str, Names] = field(default_factory=dict)

    def named(self, section: str, locale: str = "ja") -> dict[str, str]:
        """The codes of `section` that have a name, with it in `locale` (the other language's
        where only that one is given)."""
        return _pick(getattr(self, section), locale)

    def name(self, section: str, code: str, locale: str = "ja") -> str:
        """The name of `code` in `locale`, or the code itself when it has none."""
        return self.named(section, locale).get(code, code)

    def activity(self, code: str, locale: str = "ja") -> str:
        """An activity type's name: labels.yaml's, else maops's own for the contract's types
        (`activity_<type>` in core/text.yaml), else the code."""
        own = self.named("activity_types", locale).get(code)
        if own:
            return own
        # `activity_rule` is a text of its own, never a type's name
        shipped = code in ACTIVITY_TYPES and f"activity_{code}" in TEXT
        return t(f"activity_{code}", locale) if shipped else code

    def rule(self, key: str, locale: str = "ja") -> str:
        """An activity rule's key (`type` or `type:category`) in words: the type's name, its
        category's after it."""
        typ, _, category = key.partition(":")
        name = self.activity(typ, locale)
        if not category:
            return name
        category = self.name("activity_categories", category, locale)
        return t("activity_rule", locale, activity=name, category=category)

    def attribute(self, attribute: str, locale: str = "ja") -> str:
        """A lead attribute by name: maops's own for the contract's columns, else as written."""
        key = f"attribute_{attribute}"
        return t(key, locale) if key in TEXT else attribute

    def value(self, attribute: str, value: str, locale: str = "ja") -> str:
        """A lead attribute's value by name: `attributes.<attribute>` of labels.yaml, the
        products' and channels' sections for `product` and `lead_source`, else the value (a
        lead without a source in the report's words)."""
        own = _pick(self.attributes.get(attribute, {}), locale).get(value)
        if own:
            return own
        section = _OWN_SECTION.get(attribute)
        named = self.name(section, value, locale) if section else value
        if attribute == "lead_source" and named == UNKNOWN_SOURCE:
            return t(UNKNOWN_SOURCE, locale)
        return named


def _pick(names: Names, locale: str) -> dict[str, str]:
    ja_first = locale == "ja"
    out = {}
    for code, (ja, en) in names.items():
        name = (ja or en) if ja_first else (en or ja)
        if name:
            out[code] = name
    return out


def _codes(value: Any, where: str, what: str) -> Names:
    if value is not None and not isinstance(value, dict):
        raise ConfigError(
            f"{where} must be a mapping of {what} -> {{ja: ..., en: ...}}, got {value!r}"
        )
    # a code written unquoted as a number (1) names the code "1" of the data
    return {str(code): bilingual(raw, f"{where}.{code}") for code, raw in (value or {}).items()}


def load_labels(params_dir: Path) -> Labels:
    """`params_dir/labels.yaml`, checked; no file means no names (the reports show codes)."""
    path = params_dir / "labels.yaml"
    data = load_yaml(path) if path.is_file() else {}
    known = [*SECTIONS, ATTRIBUTES]
    sections: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise ConfigError(
                f"{path}: unknown key '{key}'{suggest(str(key), known)}; labels.yaml "
                f"names the codes of {', '.join(known)}"
            )
        where = f"{path}: {key}"
        if key == ATTRIBUTES:
            if value is not None and not isinstance(value, dict):
                raise ConfigError(
                    f"{where} must be a mapping of attribute -> value -> {{ja: ..., en: ...}}, "
                    f"got {value!r}"
                )
            sections[key] = {
                str(a): _codes(v, f"{where}.{a}", "value") for a, v in (value or {}).items()
            }
            continue
        sections[key] = _codes(value, where, "code")
    for code in sections.get("activity_types", {}):
        if code not in ACTIVITY_TYPES:
            raise ConfigError(
                f"{path}: activity_types.{code} is not an activity type of the data contract"
                f"{suggest(code, list(ACTIVITY_TYPES))}; the types are {', '.join(ACTIVITY_TYPES)}"
            )
    return Labels(**sections)
