"""What a company's codes mean (`params/labels.yaml`): the names of its products and of its
channels (lead_source), in Japanese and English: the reports show these names in their
tables, charts and sentences, and list the codes beside them in the glossary; the CSV files
keep the codes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import ConfigError, suggest
from ..core.io import load_yaml
from .stages import bilingual

# the sections of labels.yaml: the column each one names the codes of
SECTIONS = {"products": "product", "lead_sources": "lead_source"}


@dataclass(frozen=True)
class Labels:
    """Code -> (ja, en) per section; a code without a label is left out ("" in the file)."""

    products: dict[str, tuple[str, str]] = field(default_factory=dict)
    lead_sources: dict[str, tuple[str, str]] = field(default_factory=dict)

    def named(self, section: str, locale: str = "ja") -> dict[str, str]:
        """The codes of `section` that have a name, with it in `locale` (the other language's
        where only that one is given)."""
        ja_first = locale == "ja"
        out = {}
        for code, (ja, en) in getattr(self, section).items():
            name = (ja or en) if ja_first else (en or ja)
            if name:
                out[code] = name
        return out

    def name(self, section: str, code: str, locale: str = "ja") -> str:
        """The name of `code` in `locale`, or the code itself when it has none."""
        return self.named(section, locale).get(code, code)


def load_labels(params_dir: Path) -> Labels:
    """`params_dir/labels.yaml`, checked; no file means no names (the reports show codes)."""
    path = params_dir / "labels.yaml"
    data = load_yaml(path) if path.is_file() else {}
    sections: dict[str, Any] = {}
    for key, value in data.items():
        if key not in SECTIONS:
            raise ConfigError(
                f"{path}: unknown key '{key}'{suggest(str(key), list(SECTIONS))}; labels.yaml "
                f"names the codes of {', '.join(SECTIONS)}"
            )
        if value is not None and not isinstance(value, dict):
            raise ConfigError(
                f"{path}: {key} must be a mapping of code -> {{ja: ..., en: ...}}, got {value!r}"
            )
        sections[key] = {
            # a code written unquoted as a number (1) names the code "1" of the data
            str(code): bilingual(raw, f"{path}: {key}.{code}")
            for code, raw in (value or {}).items()
        }
    return Labels(**sections)
