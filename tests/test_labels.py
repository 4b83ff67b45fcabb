"""What the codes mean (params/labels.yaml): activity types, their categories and the values of
lead attributes by name, maops's own names for the contract's activity types, and a mistake
named by its file and entry."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from maops_utils.core.errors import ConfigError
from maops_utils.core.i18n import TEXT
from maops_utils.core.schema import ACTIVITY_TYPES
from maops_utils.metrics.labels import Labels, load_labels

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "workspaces" / "sample" / "params"


def _labels(tmp_path: Path, text: str) -> Labels:
    (tmp_path / "labels.yaml").write_text(text, encoding="utf-8")
    return load_labels(tmp_path)


def test_activity_types_categories_and_attribute_values_are_named_in_each_language(tmp_path):
    labels = _labels(
        tmp_path,
        "lead_sources:\n"
        "  web_ad: {ja: Web広告, en: Web ads}\n"
        "activity_types:\n"
        "  page_view: {ja: サイト閲覧, en: site visit}\n"
        "  form_submit: {ja: '', en: ''}\n"  # listed, not named: maops's own name
        "activity_categories:\n"
        "  pricing: {ja: 料金, en: pricing page}\n"
        "attributes:\n"
        "  job_level:\n"
        "    executive: {ja: 役員, en: Executive}\n"
        "    '1': {en: Level one}\n",  # one language: used for both
    )
    assert labels.activity("page_view", "ja") == "サイト閲覧"
    assert labels.activity("form_submit", "en") == TEXT["activity_form_submit"]["en"]
    assert labels.rule("page_view:pricing", "en") == "site visit (pricing page)"
    assert labels.rule("page_view:pricing", "ja") == "サイト閲覧（料金）"
    # a category without a name stays the data's
    assert labels.rule("form_submit:inquiry", "en") == "form submission (inquiry)"
    assert labels.value("job_level", "executive", "ja") == "役員"
    assert labels.value("job_level", "1", "ja") == "Level one"
    assert labels.value("job_level", "manager", "en") == "manager"
    # the channel and the product are named by their own sections
    assert labels.value("lead_source", "web_ad", "en") == "Web ads"
    assert labels.value("product", "A", "en") == "A"
    assert labels.value("lead_source", "unknown", "ja") == "不明"  # a lead without a source
    assert labels.value("industry", "web_ad", "en") == "web_ad"


def test_every_activity_type_of_the_contract_has_a_name_of_maops_in_both_languages():
    plain = Labels()
    for code in ACTIVITY_TYPES:
        shipped = TEXT[f"activity_{code}"]
        assert plain.activity(code, "ja") == shipped["ja"] != code
        assert plain.activity(code, "en") == shipped["en"] != "", code
    assert plain.activity("rule", "en") == "rule"  # a text of maops is no activity type


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("activity_type: {}\n", "unknown key 'activity_type'; did you mean 'activity_types'?"),
        (
            "activity_types:\n  email_opne: {ja: 開封}\n",
            "activity_types.email_opne is not an activity type of the data contract; did you "
            "mean 'email_open'?",
        ),
        ("activity_categories: [pricing]\n", "activity_categories must be a mapping of code"),
        ("activity_categories:\n  pricing: {fr: prix}\n", "activity_categories.pricing: expected"),
        ("attributes: [job_level]\n", "attributes must be a mapping of attribute -> value"),
        (
            "attributes:\n  job_level: executive\n",
            "attributes.job_level must be a mapping of value",
        ),
        (
            "attributes:\n  job_level:\n    executive: {ja: 役員, de: Vorstand}\n",
            "attributes.job_level.executive: expected {ja: ..., en: ...}",
        ),
    ],
)
def test_a_mistake_in_a_new_section_names_the_file_and_the_entry(tmp_path, text, fragment):
    with pytest.raises(ConfigError) as info:
        _labels(tmp_path, text)
    assert str(tmp_path / "labels.yaml") in str(info.value) and fragment in str(info.value)


def test_the_sample_names_every_job_level_and_category_of_its_data():
    labels = load_labels(SAMPLE)
    leads = pd.read_csv(ROOT / "data" / "sample" / "leads.csv", dtype=str)
    acts = pd.read_parquet(ROOT / "data" / "sample" / "activities.parquet", columns=["category"])
    assert set(leads["job_level"].dropna()) == set(labels.attributes["job_level"])
    assert set(acts["category"].dropna()) == set(labels.named("activity_categories", "en"))
    for locale in ("ja", "en"):
        assert labels.value("job_level", "executive", locale) in ("役員", "Executive")
