"""Tests of the seeded synthetic-data generator (maops_utils.tools.sample)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from maops_utils.tools.sample import PRODUCT_NAMES, generate_sample, last_complete_month

END = "2026-10"
END_EXCL = pd.Timestamp("2026-11-01")
START_24 = pd.Timestamp("2024-11-01")

COLUMNS = {
    "leads": [
        "lead_id", "created_at", "product", "lead_source", "contact_id", "company", "industry",
        "job_level", "employees", "region", "email",
    ],
    "activities": [
        "activity_id", "lead_id", "activity_type", "occurred_at", "campaign_id", "asset_name",
        "category",
    ],
    "stage_changes": ["lead_id", "stage", "changed_at"],
    "opportunities": [
        "opportunity_id", "lead_id", "product", "created_at", "status", "closed_at", "amount",
    ],
    "campaigns": ["campaign_id", "name", "product", "channel", "start_date", "end_date", "cost"],
}  # fmt: skip
TIMESTAMPS = {
    "leads": ["created_at"],
    "activities": ["occurred_at"],
    "stage_changes": ["changed_at"],
    "opportunities": ["created_at", "closed_at"],
    "campaigns": ["start_date", "end_date"],
}
ACTIVITY_TYPES = {
    "email_send", "email_open", "email_click", "email_bounce", "unsubscribe", "page_view",
    "form_submit", "webinar_attend", "event_attend",
}  # fmt: skip


@pytest.fixture(scope="module")
def small() -> dict[str, pd.DataFrame]:
    return generate_sample(leads=800, end_month=END, seed=7)


@pytest.fixture(scope="module")
def medium() -> dict[str, pd.DataFrame]:
    return generate_sample(leads=4000, end_month=END, seed=11)


def _first_entry(stages: pd.DataFrame, stage: str) -> pd.Series:
    return stages[stages.stage == stage].groupby("lead_id").changed_at.min()


def _with_funnel(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    leads = d["leads"].copy()
    leads["mql"] = leads.lead_id.isin(_first_entry(d["stage_changes"], "mql").index)
    leads["sql"] = leads.lead_id.isin(_first_entry(d["stage_changes"], "sql").index)
    return leads


# -- determinism ------------------------------------------------------------------------------


def test_same_seed_gives_identical_frames(small: dict[str, pd.DataFrame]) -> None:
    again = generate_sample(leads=800, end_month=END, seed=7)
    assert list(again) == list(small)
    for name, frame in small.items():
        pd.testing.assert_frame_equal(again[name], frame, check_exact=True)
        assert again[name].to_csv(index=False) == frame.to_csv(index=False)


def test_different_seed_gives_different_data(small: dict[str, pd.DataFrame]) -> None:
    other = generate_sample(leads=800, end_month=END, seed=8)
    assert not other["leads"].equals(small["leads"])
    assert not other["activities"].equals(small["activities"])
    assert len(other["leads"]) == 800


# -- shape of the contract --------------------------------------------------------------------


def test_tables_and_columns_match_the_contract(small: dict[str, pd.DataFrame]) -> None:
    assert set(small) == set(COLUMNS)
    for name, columns in COLUMNS.items():
        assert list(small[name].columns) == columns, name
    for name, columns in TIMESTAMPS.items():
        for col in columns:
            dtype = small[name][col].dtype
            assert pd.api.types.is_datetime64_dtype(dtype), (name, col, dtype)
            assert getattr(dtype, "tz", None) is None, (name, col)
    assert len(small["leads"]) == 800
    assert set(small["activities"].activity_type) <= ACTIVITY_TYPES
    assert set(small["activities"].activity_type) == ACTIVITY_TYPES
    assert set(small["stage_changes"].stage) == {"mql", "sql"}
    assert set(small["opportunities"].status) <= {"open", "won", "lost"}
    assert set(small["leads"]["product"]) == set(PRODUCT_NAMES) == {"A", "B", "C"}
    sources = set(small["leads"].lead_source.dropna())
    assert sources == {"exhibition", "webinar", "web_ad", "organic", "referral", "event"}
    assert small["leads"].lead_source.isna().any()  # a few unknown sources
    assert set(small["leads"].job_level.dropna()) == {"executive", "manager", "staff", "student"}
    assert pd.api.types.is_integer_dtype(small["leads"].employees.dtype)


def test_campaign_dates_are_midnight_and_channels_known(small: dict[str, pd.DataFrame]) -> None:
    camps = small["campaigns"]
    for col in ("start_date", "end_date"):
        assert (camps[col] == camps[col].dt.normalize()).all()
    assert (camps.end_date >= camps.start_date).all()
    assert set(camps.channel) == {"email", "webinar", "exhibition", "web_ad", "event"}
    newsletter = camps[camps.campaign_id.str.startswith("NL-")]
    assert len(newsletter) == 24 and newsletter["product"].isna().all()
    assert (camps.cost >= 0).all()


# -- time window ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("months", "end_month", "start", "end_excl"),
    [
        (24, END, START_24, END_EXCL),
        (3, "2025-01", pd.Timestamp("2024-11-01"), pd.Timestamp("2025-02-01")),
        (13, "2024-12", pd.Timestamp("2023-12-01"), pd.Timestamp("2025-01-01")),
    ],
)
def test_no_timestamp_outside_the_window(
    months: int, end_month: str, start: pd.Timestamp, end_excl: pd.Timestamp
) -> None:
    d = generate_sample(leads=600, months=months, end_month=end_month, seed=3)
    assert d["leads"].created_at.min() >= start
    for name, columns in TIMESTAMPS.items():
        for col in columns:
            values = d[name][col].dropna()
            assert (values < end_excl).all(), (name, col, values.max())
            assert (values >= start).all(), (name, col, values.min())
    # every month of the window has leads
    months_seen = d["leads"].created_at.dt.to_period("M").nunique()
    assert months_seen == months


def test_default_end_month_is_the_last_complete_month() -> None:
    d = generate_sample(leads=50, months=2)
    first_of_this_month = pd.Timestamp(date.today().replace(day=1))
    assert d["leads"].created_at.max() < first_of_this_month
    assert d["leads"].created_at.min() >= first_of_this_month - pd.DateOffset(months=2)


def test_last_complete_month() -> None:
    assert last_complete_month(date(2026, 11, 23)) == "2026-10"
    assert last_complete_month(date(2026, 1, 1)) == "2025-12"
    assert last_complete_month(date(2024, 3, 31)) == "2024-02"


@pytest.mark.parametrize(
    "kwargs",
    [{"leads": 0}, {"months": 0}, {"end_month": "2026-13"}, {"end_month": "202610"}],
)
def test_invalid_arguments_are_rejected(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        generate_sample(**{"leads": 10, "end_month": END, **kwargs})


# -- integrity --------------------------------------------------------------------------------


def test_keys_are_unique(small: dict[str, pd.DataFrame]) -> None:
    for name, key in [
        ("leads", "lead_id"),
        ("activities", "activity_id"),
        ("opportunities", "opportunity_id"),
        ("campaigns", "campaign_id"),
    ]:
        assert small[name][key].notna().all()
        assert small[name][key].is_unique, key


def test_references_resolve(small: dict[str, pd.DataFrame]) -> None:
    leads = set(small["leads"].lead_id)
    assert set(small["activities"].lead_id) <= leads
    assert set(small["stage_changes"].lead_id) <= leads
    opp_leads = small["opportunities"].lead_id
    assert opp_leads.isna().any()  # sales-sourced deals without a lead
    assert set(opp_leads.dropna()) <= leads
    camp_ids = set(small["campaigns"].campaign_id)
    assert set(small["activities"].campaign_id.dropna()) <= camp_ids
    email = small["activities"][small["activities"].activity_type.str.startswith("email_")]
    assert email.campaign_id.notna().all()


def test_lifecycle_is_consistent(small: dict[str, pd.DataFrame]) -> None:
    leads = small["leads"].set_index("lead_id")
    acts, stages = small["activities"], small["stage_changes"]
    assert (acts.occurred_at >= acts.lead_id.map(leads.created_at)).all()
    assert (stages.changed_at >= stages.lead_id.map(leads.created_at)).all()
    mql, sql = _first_entry(stages, "mql"), _first_entry(stages, "sql")
    assert set(sql.index) <= set(mql.index)
    assert (sql > mql.reindex(sql.index)).all()
    assert not stages[stages.stage == "sql"].lead_id.duplicated().any()
    assert stages[stages.stage == "mql"].lead_id.duplicated().any()  # recycled MQLs


def test_opportunity_status_and_close_dates(medium: dict[str, pd.DataFrame]) -> None:
    opps = medium["opportunities"]
    assert set(opps.status) == {"open", "won", "lost"}
    closed = opps[opps.status.isin(["won", "lost"])]
    assert closed.closed_at.notna().all()
    assert (closed.closed_at >= closed.created_at).all()
    assert opps[opps.status == "open"].closed_at.isna().all()
    assert (opps.amount > 0).all()
    median = opps.groupby("product").amount.median()
    assert median["B"] < median["A"] < median["C"]


def test_people_and_emails(small: dict[str, pd.DataFrame]) -> None:
    leads = small["leads"]
    assert leads.email.str.fullmatch(r"[a-z0-9.\-]+@example\.(co\.jp|com)").all()
    shared = leads[leads.contact_id.duplicated(keep=False)]
    assert 0.02 < len(shared) / len(leads) < 0.09
    by_contact = shared.groupby("contact_id")
    assert (by_contact["product"].nunique() == by_contact.size()).all()
    assert (by_contact.email.nunique() == 1).all()
    assert leads.groupby("email").contact_id.nunique().max() == 1
    assert leads.region.value_counts().index[0] == "東京都"
    assert (leads.company.value_counts() > 1).any()  # companies shared by several contacts


def test_email_rates_are_plausible(small: dict[str, pd.DataFrame]) -> None:
    acts = small["activities"]
    counts = acts.activity_type.value_counts()
    delivered = counts["email_send"] - counts["email_bounce"]
    assert 0.01 < counts["email_bounce"] / counts["email_send"] < 0.04
    pairs = acts[acts.activity_type == "email_open"][["lead_id", "campaign_id"]]
    assert pairs.duplicated().any()  # some leads open twice
    opens = len(pairs.drop_duplicates())
    assert 0.18 < opens / delivered < 0.32
    clicks = len(
        acts[acts.activity_type == "email_click"][["lead_id", "campaign_id"]].drop_duplicates()
    )
    assert 0.08 < clicks / opens < 0.3
    assert counts["unsubscribe"] / delivered < 0.01


# -- planted effects --------------------------------------------------------------------------


def test_effect_1_product_c_mqls_rarely_become_sql(medium: dict[str, pd.DataFrame]) -> None:
    leads = _with_funnel(medium)
    by_product = leads.groupby("product")[["mql", "sql"]].sum()
    sql_rate = by_product["sql"] / by_product["mql"]
    mql_rate = leads.groupby("product").mql.mean()
    assert sql_rate["A"] > 0.25 and sql_rate["B"] > 0.25
    assert sql_rate["C"] < 0.12
    assert sql_rate["C"] < 0.3 * min(sql_rate["A"], sql_rate["B"])
    # ... although C gets plenty of MQLs
    assert mql_rate["C"] > max(mql_rate["A"], mql_rate["B"])


def test_effect_2_web_ads_bring_cheap_poor_leads(medium: dict[str, pd.DataFrame]) -> None:
    leads = _with_funnel(medium)
    source = leads.lead_source.fillna("unknown")
    mql_rate = leads.groupby(source).mql.mean()
    for channel in ("exhibition", "webinar", "organic", "referral", "event"):
        assert mql_rate["web_ad"] < 0.5 * mql_rate[channel], channel
    assert mql_rate["web_ad"] < 0.5 * leads[source != "web_ad"].mql.mean()
    # ... and sales accepts fewer of their MQLs
    mqls = leads[leads.mql]
    is_ad = mqls.lead_source == "web_ad"
    assert mqls[is_ad].sql.mean() < 0.75 * mqls[~is_ad].sql.mean()
    assert source.value_counts().index[0] == "web_ad"  # the largest channel
    camps = medium["campaigns"]
    cpl = camps.groupby("channel").cost.sum() / source.value_counts()
    assert cpl["web_ad"] < min(cpl["exhibition"], cpl["webinar"], cpl["event"])


def test_effect_3_missed_month_dips(small: dict[str, pd.DataFrame]) -> None:
    per_month = small["leads"].created_at.dt.to_period("M").value_counts().sort_index()
    missed = pd.Period(END, "M") - 3
    neighbours = (per_month[missed - 1] + per_month[missed + 1]) / 2
    assert per_month[missed] < 0.8 * neighbours
    assert per_month[missed] < 0.8 * per_month[missed - 12]
    assert per_month[missed] == per_month.iloc[-12:].min()
    exh = small["leads"][small["leads"].lead_source == "exhibition"]
    assert (exh.created_at.dt.to_period("M") != missed).all()
    cancelled = small["campaigns"][small["campaigns"].name.str.startswith("【中止】")]
    assert len(cancelled) >= 1 and (cancelled.channel == "exhibition").all()


def test_effect_4_behaviour_and_profile_predict_sql(medium: dict[str, pd.DataFrame]) -> None:
    leads = _with_funnel(medium)
    acts = medium["activities"]
    pv = acts[acts.activity_type == "page_view"]
    forms = acts[acts.activity_type == "form_submit"]
    for ids in (
        pv[pv.category == "pricing"].lead_id,
        pv[pv.category == "product_detail"].lead_id,
        forms[forms.category == "inquiry"].lead_id,
    ):
        has = leads.lead_id.isin(ids)
        assert leads[has].sql.mean() > 2.5 * leads[~has].sql.mean()
    by_job = leads.groupby("job_level").sql.mean()
    assert by_job["executive"] > 1.8 * by_job["staff"]
    assert by_job["manager"] > 1.5 * by_job["staff"]
    assert by_job["student"] < 0.01
    big = leads.employees >= 1000
    small_co = leads.employees < 50
    assert leads[big].sql.mean() > 1.5 * leads[small_co].sql.mean()


def test_effect_5_referral_wins_most() -> None:
    # few referral deals per sample: a larger one keeps the comparison statistically safe
    large = generate_sample(leads=12000, end_month=END, seed=5)
    opps = large["opportunities"].merge(
        large["leads"][["lead_id", "lead_source"]], on="lead_id", how="left"
    )
    closed = opps[opps.status != "open"]
    by_source = (closed.status == "won").groupby(closed.lead_source.fillna("none"))
    won = by_source.mean()[by_source.size() >= 20]
    assert won["referral"] == won.max()
    assert won["referral"] > (closed.status == "won").mean() + 0.15


# -- writing: Hive-partitioned months ---------------------------------------------------------


def test_partitioned_months_hold_the_same_rows_as_the_single_file(tmp_path) -> None:
    import duckdb
    import pyarrow.dataset as ds

    from maops_utils.batch.cli import main

    common = ["sample", "--leads", "300", "--months", "6", "--end-month", END, "--seed", "7"]
    assert main([*common, "--out", str(tmp_path / "single")]) == 0
    hive = tmp_path / "hive"
    assert main([*common, "--out", str(hive), "--partition-months", "activities"]) == 0

    single = pd.read_parquet(tmp_path / "single" / "activities.parquet")
    assert not (hive / "activities.parquet").exists() and not (hive / "activities.csv").exists()
    months = sorted(single.occurred_at.dt.strftime("%Y-%m").unique())
    assert len(months) == 6
    assert sorted(p.name for p in (hive / "activities").iterdir()) == [f"month={m}" for m in months]
    for m in months:
        assert [p.name for p in (hive / "activities" / f"month={m}").iterdir()] == [
            "part-0.parquet"
        ]
        part = pd.read_parquet(hive / "activities" / f"month={m}" / "part-0.parquet")
        assert (part.occurred_at.dt.strftime("%Y-%m") == m).all()
    # the other tables are written as without partitions, byte for byte
    for name in ("leads", "stage_changes", "opportunities", "campaigns"):
        csv = f"{name}.csv"
        assert (hive / csv).read_bytes() == (tmp_path / "single" / csv).read_bytes()

    def ordered(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.sort_values("activity_id").reset_index(drop=True)

    # pyarrow: the partition column comes from the path
    table = ds.dataset(hive / "activities", format="parquet", partitioning="hive").to_table()
    arrow = table.to_pandas()
    assert sorted(arrow.month.astype(str).unique()) == months
    pd.testing.assert_frame_equal(
        ordered(arrow.drop(columns="month")), ordered(single), check_exact=True
    )
    # DuckDB with hive_partitioning
    con = duckdb.connect()
    pattern = (hive / "activities" / "*" / "*.parquet").as_posix()
    duck = con.execute(
        f"SELECT * FROM read_parquet('{pattern}', hive_partitioning = true) ORDER BY activity_id"
    ).df()
    assert (duck.month == duck.occurred_at.dt.strftime("%Y-%m")).all()
    ref = con.execute(
        f"SELECT * FROM read_parquet('{(tmp_path / 'single' / 'activities.parquet').as_posix()}') "
        "ORDER BY activity_id"
    ).df()
    pd.testing.assert_frame_equal(duck.drop(columns="month"), ref, check_exact=True)
    con.close()

    # written again as one file, the partitioned folder goes: a table exists once
    assert main([*common, "--out", str(hive)]) == 0
    assert (hive / "activities.parquet").is_file() and not (hive / "activities").exists()


def test_unknown_partitioned_table_is_refused(tmp_path) -> None:
    from maops_utils.batch.cli import main

    code = main(["sample", "--out", str(tmp_path), "--leads", "20", "--months", "2",
                 "--end-month", END, "--partition-months", "nope"])  # fmt: skip
    assert code == 2
