"""Month facts kept between runs (facts.py): read instead of queried, never stale."""

from __future__ import annotations

import pandas as pd
import pytest

from maops_utils.contract.load import load_dataset
from maops_utils.metrics import compute as mx
from maops_utils.metrics.catalogue import CORE, CORE_METRICS
from maops_utils.metrics.specs import Count

import handmade

MONTHS = ["2025-12", "2026-01", "2026-02"]
AS_OF = pd.Timestamp("2026-03-01 00:00")


def _metrics(dataset, months=MONTHS, **kw) -> pd.DataFrame:
    return mx.compute_metrics(dataset, months, **kw)


def _value(frame, month, product, metric) -> float:
    row = frame[
        (frame["month"] == month) & (frame["product"] == product) & (frame["metric"] == metric)
    ]
    assert len(row) == 1
    return float(row["value"].iloc[0])


@pytest.fixture
def data(tmp_path):
    return handmade.write(tmp_path / "data")


def test_months_seen_before_are_read_back_with_the_same_numbers(data, tmp_path):
    cache = tmp_path / "cache"
    plain = _metrics(load_dataset(data, as_of=AS_OF))
    first = load_dataset(data, as_of=AS_OF, cache_dir=cache)
    pd.testing.assert_frame_equal(_metrics(first), plain)
    assert (first.facts.read, first.facts.written) == (0, len(MONTHS))
    again = load_dataset(data, as_of=AS_OF, cache_dir=cache)
    pd.testing.assert_frame_equal(_metrics(again), plain)
    assert (again.facts.read, again.facts.written) == (len(MONTHS), 0)
    # a longer trend queries only the month it has not seen
    longer = ["2025-11", *MONTHS]
    pd.testing.assert_frame_equal(
        _metrics(again, longer), _metrics(load_dataset(data, as_of=AS_OF), longer)
    )
    assert (again.facts.read, again.facts.written) == (2 * len(MONTHS), 1)
    # grouped another way, it is another query
    channels = _metrics(again, dims=("lead_source",))
    pd.testing.assert_frame_equal(
        channels, _metrics(load_dataset(data, as_of=AS_OF), dims=("lead_source",))
    )
    assert again.facts.written == 1 + len(MONTHS)
    assert len(list(cache.glob("facts-*"))) == 1


def test_a_month_with_no_rows_is_kept_too(data, tmp_path):
    cache = tmp_path / "cache"
    plain = _metrics(load_dataset(data, as_of=AS_OF), ["2024-06"])
    for expected_reads in (0, 1):
        dataset = load_dataset(data, as_of=AS_OF, cache_dir=cache)
        got = _metrics(dataset, ["2024-06"])
        pd.testing.assert_frame_equal(got, plain)
        assert dataset.facts.read == expected_reads
    assert _value(got, "2024-06", "ALL", "new_leads") == 0


def test_a_changed_input_is_counted_afresh(data, tmp_path):
    cache = tmp_path / "cache"
    before = _metrics(load_dataset(data, as_of=AS_OF, cache_dir=cache))
    leads = data / "leads.csv"
    text = leads.read_bytes().decode("cp932")
    leads.write_bytes(
        text.replace("L1,2026-01-05 10:00:00,A", "L1,2026-01-05 10:00:00,B").encode("cp932")
    )
    changed = load_dataset(data, as_of=AS_OF, cache_dir=cache)
    after = _metrics(changed)
    assert changed.facts.read == 0
    pd.testing.assert_frame_equal(after, _metrics(load_dataset(data, as_of=AS_OF)))
    assert _value(before, "2026-01", "A", "new_leads") == 2
    assert _value(after, "2026-01", "A", "new_leads") == 1
    assert _value(after, "2026-01", "B", "new_leads") == 3
    assert len(list(cache.glob("facts-*"))) == 2


def test_a_run_time_that_leaves_rows_out_is_part_of_the_key(data, tmp_path):
    cache = tmp_path / "cache"
    early = pd.Timestamp("2026-01-20 00:00")  # leaves out later January rows
    cut = load_dataset(data, as_of=early, cache_dir=cache)
    assert cut.cut_at == early
    cut_values = _metrics(cut)
    later = load_dataset(data, as_of=AS_OF, cache_dir=cache)
    assert later.cut_at is None
    full_values = _metrics(later)
    assert later.facts.read == 0  # not the facts of the cut data
    pd.testing.assert_frame_equal(full_values, _metrics(load_dataset(data, as_of=AS_OF)))
    assert _value(cut_values, "2026-01", "ALL", "new_leads") < _value(
        full_values, "2026-01", "ALL", "new_leads"
    )
    # a run time after every row leaves nothing out: the same facts serve
    much_later = load_dataset(data, as_of=pd.Timestamp("2027-01-01"), cache_dir=cache)
    pd.testing.assert_frame_equal(_metrics(much_later), full_values)
    assert much_later.facts.read == len(MONTHS)


def test_a_product_slice_keeps_facts_of_its_own(data, tmp_path):
    cache = tmp_path / "cache"
    whole = load_dataset(data, as_of=AS_OF, cache_dir=cache)
    all_values = _metrics(whole)
    for _ in range(2):
        part = load_dataset(data, as_of=AS_OF, cache_dir=cache).for_product("A")
        got = _metrics(part)
        pd.testing.assert_frame_equal(
            got, _metrics(load_dataset(data, as_of=AS_OF).for_product("A"))
        )
    assert part.facts.read == len(MONTHS)
    assert _value(got, "2026-01", "ALL", "new_leads") == _value(
        all_values, "2026-01", "A", "new_leads"
    )
    pd.testing.assert_frame_equal(
        _metrics(load_dataset(data, as_of=AS_OF, cache_dir=cache)), all_values
    )


def test_a_changed_definition_is_queried_afresh(data, tmp_path):
    cache = tmp_path / "cache"
    specs = {n: k.spec for n, k in CORE.items()}
    _metrics(load_dataset(data, as_of=AS_OF, cache_dir=cache), specs=specs, names=CORE_METRICS)
    specs["email_sends"] = Count("activities", "occurred_at", (("activity_type", ("email_open",)),))
    dataset = load_dataset(data, as_of=AS_OF, cache_dir=cache)
    got = _metrics(dataset, specs=specs, names=["email_sends"])
    assert dataset.facts.read == 0
    pd.testing.assert_frame_equal(
        got, _metrics(load_dataset(data, as_of=AS_OF), specs=specs, names=["email_sends"])
    )
    assert _value(got, "2026-01", "ALL", "email_sends") == 4  # the four opens of January


def test_a_damaged_month_file_is_queried_again(data, tmp_path):
    cache = tmp_path / "cache"
    plain = _metrics(load_dataset(data, as_of=AS_OF))
    _metrics(load_dataset(data, as_of=AS_OF, cache_dir=cache))
    files = sorted(cache.glob("facts-*/all/2026-01-*.kept"))
    assert len(files) == 1
    files[0].write_bytes(b"not a kept file")
    dataset = load_dataset(data, as_of=AS_OF, cache_dir=cache)
    pd.testing.assert_frame_equal(_metrics(dataset), plain)
    assert (dataset.facts.read, dataset.facts.written) == (len(MONTHS) - 1, 1)
    assert files[0].read_bytes().startswith(b"maops-kept-1 ")  # written anew
