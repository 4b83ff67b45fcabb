"""Reading vendor cells (dates, numbers, empties) and the errors that name file, line, column."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import pytest

from maops_utils.batch.importing import add_parser, run
from maops_utils.core.errors import EXIT_INPUT, ConfigError, DataContractError
from maops_utils.importers import import_exports, load_mapping
from maops_utils.importers.parsing import clean_text, parse_datetimes, parse_numbers

FIXTURES = Path(__file__).parent / "fixtures" / "exports"
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2026/10/05", "2026-10-05 00:00:00"),
        ("2026/10/05 13:04", "2026-10-05 13:04:00"),
        ("2026/1/5 9:04", "2026-01-05 09:04:00"),
        ("2026-10-05 13:04:05", "2026-10-05 13:04:05"),
        ("2026-10-05T04:04:05Z", "2026-10-05 13:04:05"),
        ("2026-10-05T13:04:05+09:00", "2026-10-05 13:04:05"),
        ("2026-10-05T00:04:05.123-04:00", "2026-10-05 13:04:05.123"),
        ("45931.5", "2025-10-01 12:00:00"),  # Excel serial
        ("45931", "2025-10-01 00:00:00"),
        ("1791173045000", "2026-10-05 13:04:05"),  # epoch milliseconds (HubSpot)
        ("２０２６／１０／０５　１３：０４", "2026-10-05 13:04:00"),  # full-width
        ("2026年10月5日 13時4分", "2026-10-05 13:04:00"),
        ("20261005", "2026-10-05 00:00:00"),
    ],
)
def test_parse_datetimes_reads_the_layouts_exports_use(cell, expected):
    parsed, bad = parse_datetimes(pd.Series([cell]), timezone="Asia/Tokyo")
    assert not bad.any()
    assert parsed.iloc[0] == pd.Timestamp(expected)


def test_parse_datetimes_source_zone_and_explicit_formats():
    values = pd.Series(["10/05/2026 12:04 AM", "2026-10-05 00:04", "2026-10-05T04:04:00Z"])
    parsed, bad = parse_datetimes(
        values,
        formats=("%m/%d/%Y %I:%M %p", "auto"),
        source_timezone="America/New_York",
        timezone="Asia/Tokyo",
    )
    assert not bad.any()
    # naive values are New York local time; the offset value is absolute
    assert parsed.tolist() == [
        pd.Timestamp("2026-10-05 13:04"),
        pd.Timestamp("2026-10-05 13:04"),
        pd.Timestamp("2026-10-05 13:04"),
    ]


def test_parse_datetimes_empty_is_missing_not_unreadable():
    parsed, bad = parse_datetimes(pd.Series(["", "  ", "null", None, "next week"]))
    assert parsed.isna().all()
    assert bad.tolist() == [False, False, False, False, True]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1,200,000", 1200000.0),
        ("１，２００，０００", 1200000.0),
        ("¥1,200,000", 1200000.0),
        ("1200円", 1200.0),
        ("(1,200)", -1200.0),
        (" 3.5 ", 3.5),
    ],
)
def test_parse_numbers(cell, expected):
    read = parse_numbers(pd.Series([cell]))
    assert not read.bad.any() and read.values.iloc[0] == expected


def test_parse_numbers_empty_vs_unreadable():
    read = parse_numbers(pd.Series(["", "-", "約100万", None]))
    assert read.values.isna().all()
    assert read.bad.tolist() == [False, False, True, False]


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        # a decimal comma, as Brazilian and most European exports write amounts
        (["27245,67", "100,5", "-3,25"], [27245.67, 100.5, -3.25]),
        (["R$ 100.000", "R$ 2.500,50", "€ 9,99"], [100000.0, 2500.5, 9.99]),
        (["1.234.567", "12,5"], [1234567.0, 12.5]),
        # a decimal point, thousands grouped by commas
        (["1,234.56", "0.25", "100.000"], [1234.56, 0.25, 100.0]),
        (["1,200,000", "1,234", "500"], [1200000.0, 1234.0, 500.0]),
        (["USD 12.50", "12.50 USD", "¥1,200"], [12.5, 12.5, 1200.0]),
    ],
)
def test_numbers_read_with_the_separators_their_column_shows(cells, expected):
    read = parse_numbers(pd.Series(cells))
    assert not read.ambiguous and not read.bad.any()
    assert read.values.tolist() == expected


@pytest.mark.parametrize(
    ("cells", "why"),
    [
        (["1,234", "12,5"], "',' is the decimal sign in some values and groups thousands"),
        (["100.000"], "'.' may be the decimal sign or group thousands"),
        (["1,234.5", "1.234,5"], "some values use '.' as the decimal sign and others ','"),
        (["100.000", "1,234"], "'.' may be the decimal sign or group thousands"),
    ],
)
def test_a_column_that_reads_two_ways_is_not_read_at_all(cells, why):
    read = parse_numbers(pd.Series(cells))
    assert why in read.ambiguous and read.examples
    assert read.values.isna().all()  # no guess


def test_declared_separators_read_every_value_that_way_or_not_at_all():
    read = parse_numbers(pd.Series(["1,234", "12,5", "100.000,25"]), decimal=",")
    assert read.values.tolist() == [1.234, 12.5, 100000.25] and not read.ambiguous
    read = parse_numbers(pd.Series(["100.000", "1.234,5", "1,234.5"]), decimal=".")
    assert read.values.tolist()[0] == 100.0 and read.values.tolist()[2] == 1234.5
    assert read.bad.tolist() == [False, True, False]  # 1.234,5 is not written that way
    read = parse_numbers(pd.Series(["1 234,5", "12"]), decimal=",", thousands=" ")
    assert read.values.tolist() == [1234.5, 12.0]


def test_clean_text_empty_strings_and_nulls_are_missing():
    out = clean_text(pd.Series(["  a ", "", "　", "null", None, "0"]))
    assert out.tolist() == ["a", None, None, None, None, "0"]


# ----------------------------------------------------------------------------- a custom layout


def test_custom_spreadsheet_imports_through_its_mapping_file():
    folder = FIXTURES / "custom"
    result = import_exports(folder, load_mapping("custom", folder / "mapping.yaml"))
    leads = result.tables["leads"].set_index("lead_id")
    assert leads.loc["K-1", "product"] == "A" and leads.loc["K-2", "product"] == "B"
    assert leads.loc["K-1", "created_at"] == pd.Timestamp("2026-10-05 13:04")
    assert leads.loc["K-2", "created_at"] == pd.Timestamp("2025-10-01 12:00")  # Excel serial
    assert leads.loc["K-3", "created_at"] == pd.Timestamp("2026-10-07 13:00")  # UTC -> Tokyo
    assert leads.loc["K-1", "employees"] == 1200  # full-width digits, separators
    assert pd.isna(leads.loc["K-2", "employees"])  # empty, not an error
    assert leads.loc["K-1", "company"] == "株式会社ミライ"  # text is kept as written
    opps = result.tables["opportunities"].set_index("opportunity_id")
    assert opps.loc["D-1", "amount"] == 1200000 and opps.loc["D-1", "status"] == "won"
    assert opps.loc["D-2", "status"] == "open" and pd.isna(opps.loc["D-2", "closed_at"])
    assert result.tables["activities"].empty


def _copy_custom(tmp_path: Path, leads_text: str) -> Path:
    folder = tmp_path / "custom"
    folder.mkdir()
    (folder / "leads_sheet.csv").write_bytes(leads_text.encode("cp932"))
    (folder / "mapping.yaml").write_bytes((FIXTURES / "custom" / "mapping.yaml").read_bytes())
    return folder


def test_unreadable_date_names_file_line_and_column(tmp_path):
    folder = _copy_custom(
        tmp_path,
        "リードID,登録日,商材,流入経路\nK-1,2026/10/05,会計,展示会\nK-2,来週,会計,展示会\n",
    )
    with pytest.raises(DataContractError) as info:
        import_exports(folder, load_mapping("custom", folder / "mapping.yaml"))
    err = info.value
    assert err.exit_code == EXIT_INPUT
    text = str(err)
    assert "leads_sheet.csv" in text and "line 3" in text and "登録日" in text and "来週" in text
    assert "date_formats" in text  # what to do


def test_missing_required_column_is_named_with_a_hint(tmp_path):
    folder = _copy_custom(tmp_path, "リードID,登録日時,商材\nK-1,2026/10/05,会計\n")
    with pytest.raises(DataContractError, match="登録日.*did you mean '登録日時'"):
        import_exports(folder, load_mapping("custom", folder / "mapping.yaml"))


def test_unknown_vendor_code_is_kept_and_reported(tmp_path):
    folder = _copy_custom(tmp_path, "リードID,登録日,商材,流入経路\nK-1,2026/10/05,会計,テレアポ\n")
    result = import_exports(folder, load_mapping("custom", folder / "mapping.yaml"))
    assert result.tables["leads"]["lead_source"].tolist() == ["テレアポ"]
    finding = next(f for f in result.findings if f.column == "流入経路")
    assert "テレアポ" in finding.message and "values" in finding.action


def test_mapping_errors_name_the_file_and_key(tmp_path):
    bad = tmp_path / "m.yaml"
    bad.write_text("extends: hubspot\ntables:\n  leads:\n    colums: {}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"m.yaml: tables.leads: unknown key 'colums'.*columns"):
        load_mapping("x", bad)
    bad.write_text("extends: hubspt\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="did you mean 'hubspot'"):
        load_mapping("x", bad)
    with pytest.raises(ConfigError, match="not found"):
        load_mapping("pardot")


def test_shipped_vendor_mappings_load():
    for name in ("eloqua", "marketo", "hubspot", "salesforce"):
        mapping = load_mapping(name)
        assert "leads" in mapping.tables and "opportunities" in mapping.tables


def test_cli_parser_and_handler(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="maops")
    add_parser(parser.add_subparsers(dest="command"))
    out = tmp_path / "ds"
    args = parser.parse_args(
        [
            "import",
            "custom",
            "--src",
            str(FIXTURES / "custom"),
            "--out",
            str(out),
            "--mapping",
            str(FIXTURES / "custom" / "mapping.yaml"),
        ]
    )
    assert run(args) == 0
    assert (out / "leads.csv").is_file() and (out / "import.json").is_file()
    assert "leads" in capsys.readouterr().out
    with pytest.raises(ConfigError, match="does not exist"):
        run(
            parser.parse_args(
                ["import", "hubspot", "--src", str(tmp_path / "no"), "--out", str(out)]
            )
        )


def _deals(tmp_path: Path, amounts: list[str], edit: tuple[str, str] = ("", "")) -> Path:
    """The custom layout with deals of `amounts` (CP932, quoted) and its mapping with the
    text `edit[0]` replaced by `edit[1]` (nothing replaced: `edit[1]` added at the top)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    folder = _copy_custom(tmp_path, "リードID,登録日,商材,流入経路\nK-1,2026/10/05,会計,展示会\n")
    rows = "".join(
        f'D-{i},K-1,会計,2026/10/20,受注,2026/10/28,"{a}"\n' for i, a in enumerate(amounts)
    )
    (folder / "deals_sheet.csv").write_bytes(
        ("案件ID,リードID,商材,作成日,状態,受注日,金額\n" + rows).encode("cp932")
    )
    mapping = (folder / "mapping.yaml").read_text(encoding="utf-8")
    mapping = mapping.replace(edit[0], edit[1]) if edit[0] else edit[1] + mapping
    (folder / "mapping.yaml").write_text(mapping, encoding="utf-8")
    return folder


def test_decimal_comma_amounts_are_read_as_written_never_a_hundred_times_larger(tmp_path):
    folder = _deals(tmp_path, ["27245,67", "100,5"])
    result = import_exports(folder, load_mapping("custom", folder / "mapping.yaml"))
    assert result.tables["opportunities"]["amount"].tolist() == [27245.67, 100.5]


def test_amounts_that_read_two_ways_stop_the_import_until_the_mapping_says(tmp_path):
    folder = _deals(tmp_path, ["1,234", "12,5"])
    with pytest.raises(DataContractError) as info:
        import_exports(folder, load_mapping("custom", folder / "mapping.yaml"))
    text = str(info.value)
    assert "deals_sheet.csv" in text and "金額" in text and "read two ways" in text
    assert "'1,234'" in text and "'12,5'" in text and "decimal: ','" in text
    # declared for the mapping, or for the column alone: read that way
    for i, edit in enumerate(
        [("", "decimal: ','\n"), ("amount: 金額", "amount: {column: 金額, decimal: ','}")]
    ):
        folder = _deals(tmp_path / str(i), ["1,234", "12,5"], edit)
        result = import_exports(folder, load_mapping("custom", folder / "mapping.yaml"))
        assert result.tables["opportunities"]["amount"].tolist() == [1.234, 12.5]


def test_a_separator_maops_does_not_read_is_a_mapping_error(tmp_path):
    folder = _deals(tmp_path, ["1"], ("", "decimal: ';'\n"))
    with pytest.raises(ConfigError, match=r"mapping.yaml: decimal: ';' is not a separator"):
        load_mapping("custom", folder / "mapping.yaml")


def test_values_mapped_to_nothing_or_empty_are_missing_never_a_marker_or_nan(tmp_path):
    # the shipped example mapping: origins `other` and `unknown` map to ~, one origin is empty
    folder = tmp_path / "funnel"
    folder.mkdir()
    (folder / "olist_marketing_qualified_leads_dataset.csv").write_text(
        "mql_id,first_contact_date,landing_page_id,origin\n"
        "m1,2018-02-01,lp1,paid_search\nm2,2018-02-03,lp1,unknown\nm3,2018-02-04,lp2,\n"
        "m4,2018-03-01,lp2,other\nm5,2018-03-02,lp3,organic_search\n",
        encoding="utf-8",
    )
    (folder / "olist_closed_deals_dataset.csv").write_text(
        "mql_id,seller_id,won_date,declared_monthly_revenue\nm1,s1,2018-02-20 10:00:00,0\n",
        encoding="utf-8",
    )
    mapping = load_mapping("public", ROOT / "params" / "mappings" / "example_public_funnel.yaml")
    result = import_exports(folder, mapping, timezone="UTC")
    leads = result.tables["leads"]
    assert leads["lead_source"].tolist() == ["web_ad", None, None, None, "organic"]
    assert leads["product"].tolist() == ["SELLER"] * 5  # product.default fills every lead
    (dropped,) = [f for f in result.findings if f.column == "origin"]
    assert dropped.count == 2 and "unknown (1), other (1)" in dropped.message
    assert "left empty" in dropped.message  # a lead is kept; only its source is unknown
    for name, frame in result.tables.items():
        for column in frame.columns:
            if not pd.api.types.is_numeric_dtype(frame[column]):
                junk = frame[column].isin(["__maops_skip__", "nan"])
                assert not junk.any(), (name, column)


# ----------------------------------------------------------------------------- CSV as tools write it


def test_semicolons_crlf_bom_no_final_newline_and_padded_headers_are_read(tmp_path):
    # as Excel saves CSV where the decimal sign is a comma: fields separated by ";"
    folder = _copy_custom(tmp_path, "")
    text = (
        "\ufeffリードID ;登録日;商材;流入経路\r\n"
        "K-1;2026/10/05;会計;展示会\r\n"
        'K-2;2026/10/06;"人事";ウェブ広告'
    )
    (folder / "leads_sheet.csv").write_bytes(text.encode("utf-8"))
    mapping = folder / "mapping.yaml"
    mapping.write_text(
        mapping.read_text(encoding="utf-8").replace("encoding: cp932", "encoding: auto"),
        encoding="utf-8",
    )
    result = import_exports(folder, load_mapping("custom", mapping))
    leads = result.tables["leads"]
    assert leads["lead_id"].tolist() == ["K-1", "K-2"]
    assert leads["product"].tolist() == ["A", "B"]
    assert leads["lead_source"].tolist() == ["exhibition", "web_ad"]


def test_a_field_count_error_names_the_delimiter_it_used(tmp_path):
    folder = _copy_custom(
        tmp_path, "リードID;登録日;商材;流入経路\nK-1;2026/10/05;会計;展示会;余分;x\n"
    )
    with pytest.raises(DataContractError) as info:
        import_exports(folder, load_mapping("custom", folder / "mapping.yaml"))
    assert "leads_sheet.csv" in str(info.value) and "read with ';' between fields" in str(
        info.value
    )
    assert "delimiter" in info.value.problems[0].action


def test_a_declared_delimiter_is_used_and_a_strange_one_refused(tmp_path):
    folder = _copy_custom(tmp_path, "リードID|登録日|商材|流入経路\nK-1|2026/10/05|会計|展示会\n")
    mapping = folder / "mapping.yaml"
    original = mapping.read_text(encoding="utf-8")
    leads = import_exports(folder, load_mapping("custom", mapping)).tables["leads"]  # sniffed
    assert leads["lead_id"].tolist() == ["K-1"] and leads["product"].tolist() == ["A"]
    mapping.write_text('delimiter: ","\n' + original, encoding="utf-8")  # declared: no sniffing
    with pytest.raises(DataContractError, match="リードID.*is not in the file"):
        import_exports(folder, load_mapping("custom", mapping))
    mapping.write_text('delimiter: ":"\n' + original, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"delimiter: ':' is not a separator"):
        load_mapping("custom", mapping)


@pytest.mark.parametrize(
    ("line", "table", "field"),
    [
        ("      lead_id: リードID\n", "leads", "lead_id"),
        ("      created_at: 登録日\n", "leads", "created_at"),
        ("      status: {column: 状態, values: {受注: won, 失注: lost, 商談中: open}}\n",
         "opportunities", "status"),
    ],
)  # fmt: skip
def test_a_mapping_without_a_field_every_row_needs_is_refused_before_any_file_is_read(
    tmp_path, line, table, field
):
    text = (FIXTURES / "custom" / "mapping.yaml").read_text(encoding="utf-8")
    assert line in text
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(text.replace(line, ""), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_mapping("custom", mapping)
    message = str(info.value)
    assert message.startswith(f"{mapping}: tables.{table}.columns: {field} not mapped")
    assert f"`{field}: <column name>`" in message
