"""The shared conformance kit: core metrics computed independently from the contract alone."""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from maops_utils.contract.load import load_dataset
from maops_utils.metrics import compute as mx

SHARED = Path(os.environ.get("MAOPS_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
KIT = SHARED / "conformance" / "v1"
EXPECTED = sorted((KIT / "expected").glob("metrics-*.csv")) if KIT.is_dir() else []

pytestmark = [
    pytest.mark.conformance,
    pytest.mark.skipif(
        not EXPECTED,
        reason=f"conformance kit not found at {KIT} (it lives in the shared folder beside the "
        "checkout; set MAOPS_SHARED_DIR to point at another copy)",
    ),
]


@pytest.fixture(scope="module")
def messy():
    return load_dataset(KIT / "messy-small", as_of=pd.Timestamp("2026-11-15"))


def test_messy_dataset_loads_with_orphans_reported(messy):
    assert messy.sources["leads"]["encoding"] == "cp932"
    orphan = [f for f in messy.findings if f.table == "activities" and "orphan" in f.message]
    assert orphan and orphan[0].count == 200


@pytest.mark.parametrize("expected_file", EXPECTED, ids=lambda p: p.stem)
def test_metrics_match_the_kit(messy, expected_file):
    expected = pd.read_csv(expected_file, dtype={"month": str})
    month = expected["month"].iloc[0]
    got = mx.compute_metrics(messy, [month])
    merged = expected.merge(
        got,
        on=["month", "product", "metric"],
        how="outer",
        suffixes=("_exp", "_got"),
        indicator=True,
    )
    missing = merged[merged["_merge"] != "both"]
    assert missing.empty, f"rows only on one side:\n{missing}"
    both_empty = merged["value_exp"].isna() & merged["value_got"].isna()
    close = np.isclose(merged["value_exp"], merged["value_got"], rtol=0, atol=1e-9)
    wrong = merged[~(both_empty | close)]
    assert wrong.empty, f"metrics differ from the kit:\n{wrong.to_string()}"
    counts = merged[~merged["metric"].str.endswith(("_rate", "_ctr", "_ctor"))]
    assert (counts["value_exp"] == counts["value_got"]).all(), "counts must match exactly"
