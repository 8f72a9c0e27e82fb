"""AEF JSON and CSV: the JCM reports column by column, round trips, spelling variants and
policies (article6.md §3).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.accounting import aef
from ledger.accounting.aef import (
    ActionDateFormat,
    ActionRow,
    ActionSubtype,
    ActionType,
    AefReport,
    AefTable,
    AefValidationError,
    AuthorizedEntityRow,
    FirstTransferDefinition,
    Metric,
    MitigationType,
    SpellingPolicy,
    UnderlyingRegistry,
    check_report,
    from_csv,
    from_json,
    headers,
    to_csv,
    to_json,
    validate_report,
)
from tests.unit.accounting.aef.jcm import (
    ACTION_HEADERS,
    POLICIES,
    REPORTS,
    T1,
    T2,
    T3,
    T4,
    T5,
    first_transfer,
    japan_report,
    oimp_report,
    problems_of,
    report_and_policy,
    thailand_report,
)

# --------------------------------------------------------------------------------------------
# The JCM reports, column by column
# --------------------------------------------------------------------------------------------


def test_jcm_reports_are_valid() -> None:
    validate_report(thailand_report())
    validate_report(japan_report())
    assert check_report(japan_report()) == []


def test_thailand_first_transfer_row_column_by_column() -> None:
    (row,) = to_json(thailand_report())["Table 3: Actions"]
    assert list(row) == list(ACTION_HEADERS)
    assert row == {
        "Action date": "11/11/2025",
        "Action type": "First transfer",
        "Action subtype": "First transfer to another Party",
        "Cooperative approach ID": "CA0001",
        "Authorization ID": "THA-JCM-2025-001",
        "First transferring participating Party ID": "THA",
        "Party ITMO registry ID": "THA01",
        "First ID": 1,
        "Last ID": 1009,
        "Underlying unit registry ID": "JCM",
        "First unit ID": 500001,
        "Last unit ID": 501009,
        "Metric": "GHG",
        "Applicable GWP value(s)": None,
        "Applicable non-GHG metric": None,
        "Quantity (t CO2 eq)": 1009,
        "Quantity (in non-GHG metric)": None,
        "Mitigation type": "Emission reductions",
        "Vintage": 2021,
        "Transferring participating Party ID": None,
        "Acquiring participating Party ID": "JPN",
        "Purpose for which the ITMO has been used towards or cancelled for OIMP": None,
        "Using/cancelling participating Party ID": None,
        "Using/cancelling authorized entity ID": None,
        "Calendar year for which the ITMOs are used towards the Party's NDC": None,
        "Result of the consistency checks": None,
        "Additional explanatory information": None,
    }


def test_thailand_csv_lines() -> None:
    report = thailand_report()
    lines = to_csv(report, T3).split("\r\n")
    assert lines[0] == ",".join(
        f'"{header}"' if "," in header else header for header in ACTION_HEADERS
    )
    assert lines[1] == (
        "11/11/2025,First transfer,First transfer to another Party,CA0001,THA-JCM-2025-001,"
        "THA,THA01,1,1009,JCM,500001,501009,GHG,,,1009,,Emission reductions,2021,,JPN,,,,,,"
    )
    assert lines[2:] == [""]
    assert to_csv(report, T1).split("\r\n")[1] == "THA,1.0,2025,15/04/2026,,,2021,2030,"
    assert to_csv(report, T2).split("\r\n")[1] == (
        'THA-JCM-2025-001,30/10/2025,CA0001,1,1009,GHG,"IPCC AR5, 100-year",,Energy generation,'
        "Solar,NDC,JPN,0105500000001,,2021 - 2030,,,,"
        '"Hypothetical test data: 5 MW floating solar, JCM."'
    )
    assert to_csv(report, T5).split("\r\n")[1] == (
        '30/10/2025,"Hypothetical Floating Solar Co., Ltd.",THA,0105500000001,CA0001,'
        "Project participant of the JCM project,,"
    )
    assert to_csv(report, T4) == ",".join(headers(T4)) + "\r\n"


def test_japan_acquisition_and_use_columns() -> None:
    acquired, used = to_json(japan_report())["Table 3: Actions"]
    assert acquired["Action type"] == "Acquisition"
    assert acquired["Transferring participating Party ID"] == "THA"
    assert acquired["Acquiring participating Party ID"] is None
    assert acquired["Calendar year for which the ITMOs are used towards the Party's NDC"] is None
    assert used["Action type"] == "Use"
    assert used["Action date"] == "19/12/2025"
    assert (used["First ID"], used["Last ID"], used["Quantity (t CO2 eq)"]) == (1, 1000, 1000)
    assert used["Calendar year for which the ITMOs are used towards the Party's NDC"] == 2030
    assert used["Transferring participating Party ID"] is None
    (held,) = to_json(japan_report())["Table 4: Holdings"]
    assert (held["First ID"], held["Last ID"], held["Quantity (t CO2 eq)"]) == (1001, 1009, 9)
    assert held["Underlying unit registry ID"] == "JCM"


def test_carp_columns_are_written_empty() -> None:
    report = thailand_report()
    filled = replace(
        report,
        submission=replace(report.submission, review_status="Review pending"),
        actions=(
            replace(first_transfer(), consistency_check_result="Checked, no inconsistencies"),
        ),
    )
    assert to_json(filled) == to_json(report)
    assert problems_of(filled) == [
        (T1, 1, "Review status of the initial report", "populated by the CARP; leave it empty"),
        (T3, 1, "Result of the consistency checks", "populated by the CARP; leave it empty"),
    ]


# --------------------------------------------------------------------------------------------
# Round trips
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("name", REPORTS)
def test_json_round_trip_gives_identical_rows(policy: SpellingPolicy, name: str) -> None:
    report, policy = report_and_policy(name, policy)
    validate_report(report)
    data = json.loads(json.dumps(to_json(report, policy)))
    assert from_json(data) == report


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("name", REPORTS)
def test_csv_round_trip_gives_identical_rows(policy: SpellingPolicy, name: str) -> None:
    report, policy = report_and_policy(name, policy)
    assert from_csv(T1, to_csv(report, T1, policy)) == [report.submission]
    assert from_csv(T2, to_csv(report, T2, policy)) == list(report.authorizations)
    assert from_csv(T3, to_csv(report, T3, policy)) == list(report.actions)
    assert from_csv(T4, to_csv(report, T4, policy)) == list(report.holdings)
    assert from_csv(T5, to_csv(report, T5, policy)) == list(report.entities)


def test_date_times_are_written_as_their_utc_date_under_the_date_format() -> None:
    report = oimp_report()
    (action,) = from_json(to_json(report)).actions
    assert action.action_date == date(2025, 6, 30)
    assert action == replace(report.actions[0], action_date=date(2025, 6, 30))


def test_json_has_no_floats_and_every_header() -> None:
    data = to_json(japan_report())
    assert list(data) == [table.value for table in AefTable]
    for table in AefTable:
        for row in data[table.value]:
            assert list(row) == list(headers(table))
            assert not any(isinstance(value, float) for value in row.values())


text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters=",;\n\r"),
    min_size=1,
    max_size=12,
).filter(lambda s: s.strip() != "" and aef.normalize_header(s) not in {"na", "n/a"})
letters = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
codes = st.tuples(letters, letters, letters).map("".join)
numbers = st.integers(min_value=0, max_value=99)
serials = st.integers(min_value=0, max_value=10**12)


@st.composite
def action_rows(draw: st.DrawFn, with_time: bool) -> ActionRow:
    if with_time:
        moment = draw(
            st.datetimes(
                min_value=datetime(1000, 1, 1),
                max_value=datetime(9999, 12, 30),
                timezones=st.just(UTC),
            )
        )
        action_date: date = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    else:
        action_date = draw(st.dates(min_value=date(1000, 1, 1)))
    first = draw(serials)
    return ActionRow(
        action_date=action_date,
        action_type=draw(st.sampled_from(ActionType)),
        action_subtype=draw(st.none() | st.sampled_from(ActionSubtype)),
        cooperative_approach_id=f"CA{draw(st.integers(min_value=0, max_value=9999)):04d}",
        authorization_id=draw(text),
        first_transferring_party_id=draw(codes),
        registry_id=f"{draw(codes)}{draw(numbers):02d}",
        first_id=first,
        last_id=first + draw(st.integers(min_value=0, max_value=10**6)),
        underlying_registry_id=draw(st.none() | st.sampled_from(UnderlyingRegistry)),
        first_unit_id=draw(st.none() | serials),
        last_unit_id=draw(st.none() | serials),
        metric=draw(st.sampled_from(Metric)),
        gwp_values=draw(st.none() | text),
        non_ghg_metric=draw(st.none() | text),
        quantity=draw(st.integers(min_value=1, max_value=10**9)),
        quantity_non_ghg=draw(st.none() | st.integers(min_value=1, max_value=10**9)),
        mitigation_type=draw(st.sampled_from(MitigationType)),
        vintage=draw(st.integers(min_value=1000, max_value=9999)),
        transferring_party_id=draw(st.none() | codes),
        acquiring_party_id=draw(st.none() | codes),
        oimp_purpose=draw(st.none() | text),
        using_party_id=draw(st.none() | codes),
        using_entity_id=draw(st.none() | text),
        ndc_use_year=draw(st.none() | st.integers(min_value=1000, max_value=9999)),
        additional_information=draw(st.none() | text),
    )


@given(rows=st.lists(action_rows(with_time=False), max_size=3))
def test_action_csv_round_trip_property(rows: list[ActionRow]) -> None:
    report = AefReport(submission=thailand_report().submission, actions=tuple(rows))
    assert from_csv(T3, to_csv(report, T3)) == rows


@given(
    rows=st.lists(action_rows(with_time=True), max_size=3),
    policy=st.sampled_from(POLICIES[1:]),
)
def test_action_csv_round_trip_property_with_date_times(
    rows: list[ActionRow], policy: SpellingPolicy
) -> None:
    policy = replace(policy, action_date=ActionDateFormat.ISO_8601_UTC)
    report = AefReport(submission=thailand_report().submission, actions=tuple(rows))
    assert from_csv(T3, to_csv(report, T3, policy)) == rows


# --------------------------------------------------------------------------------------------
# Spelling variants and policies
# --------------------------------------------------------------------------------------------


def _csv(header: list[str], *rows: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def test_every_spelling_variant_is_accepted_on_import() -> None:
    expected = list(japan_report().actions)
    base = to_json(japan_report())["Table 3: Actions"]
    header = [
        h.replace("Quantity (t CO2 eq)", "Quantity (t\u00a0CO2\u00a0eq)")
        .replace("Party's", "Party\u2019s")
        .upper()
        for h in ACTION_HEADERS
    ]

    def line(record: dict[str, aef.Cell], **overrides: str) -> list[str]:
        cells = {h: "" if v is None else str(v) for h, v in record.items()}
        cells.update({h.replace("_", " "): v for h, v in overrides.items()})
        return [cells[h] for h in ACTION_HEADERS]

    for acquisition_spelling in ("Aquisition", "Acquistion", "acquisition"):
        text = _csv(
            header,
            line(
                base[0],
                **{
                    "Action type": acquisition_spelling,
                    "Metric": "ghg",
                    "Acquiring participating Party ID": "NA",
                    "Quantity (t CO2 eq)": "1,009",
                    "Action date": "2025-11-11",
                },
            ),
            line(base[1], **{"Action date": "19/12/2025", "First ID": "1", "Last ID": "1000"}),
        )
        assert from_csv(T3, "\ufeff" + text) == expected

    authorization = to_json(oimp_report())["Table 2: Authorizations"][0]
    for definition in ("Authorisation", "authorization", "AUTHORIZATION"):
        record = dict(
            authorization, **{"First transfer definition for OIMP": definition, "Metric": "Non-GHG"}
        )
        (row,) = from_json(
            {
                "Table 1 Submission": to_json(thailand_report())["Table 1: Submission"],
                "table 2 authorizations": [record],
            }
        ).authorizations
        assert row.first_transfer_definition is FirstTransferDefinition.AUTHORIZATION
        assert row.metric is Metric.NON_GHG
    for definition in ("Use or Cancellation", "Use of cancellation", "use or cancellation"):
        record = dict(authorization, **{"First transfer definition for OIMP": definition})
        (row,) = from_csv(T2, _csv(list(record), [str(v or "") for v in record.values()]))
        assert row.first_transfer_definition is FirstTransferDefinition.USE_OR_CANCELLATION


def test_action_date_formats_and_composite_identifiers_are_accepted() -> None:
    (record,) = to_json(thailand_report())["Table 3: Actions"]
    variants = {
        "11/11/2025": date(2025, 11, 11),
        "2025-11-11": date(2025, 11, 11),
        "2025-11-11T10:20:30.456Z": datetime(2025, 11, 11, 10, 20, 30, 456000, tzinfo=UTC),
        "2025-11-11T19:20:30+09:00": datetime(2025, 11, 11, 10, 20, 30, tzinfo=UTC),
    }
    for cell, expected in variants.items():
        changed = dict(
            record,
            **{
                "Action date": cell,
                "First ID": "CA0001-THA01-THA-1-2021",
                "Last ID": "CA0001-THA01-THA-1,009-2021",
            },
        )
        (row,) = from_csv(T3, _csv(list(changed), [str(v or "") for v in changed.values()]))
        assert row == replace(first_transfer(), action_date=expected)
    wrong = dict(record, **{"First ID": "CA0002-THA01-THA-1-2021"})
    with pytest.raises(AefValidationError) as raised:
        from_csv(T3, _csv(list(wrong), [str(v or "") for v in wrong.values()]))
    assert raised.value.problems == (
        (
            T3,
            1,
            "First ID",
            "composite ITMO identifier 'CA0002-THA01-THA-1-2021' does not match the row's "
            "Cooperative approach ID (CA0001)",
        ),
    )


def test_unreadable_cells_are_all_reported() -> None:
    text = _csv(
        [
            "Party",
            "Version",
            "Reported year",
            "Date of submission",
            "Bogus",
            "First year of the NDC implementation period",
            "Last year of the NDC implementation period",
        ],
        ["THA", "1.0", "2025.5", "31/02/2026", "x", "twenty", "2030"],
    )
    with pytest.raises(AefValidationError) as raised:
        from_csv(T1, text)
    assert [(p.row, p.column) for p in raised.value.problems] == [
        (1, "Bogus"),
        (1, "Reported year"),
        (1, "Date of submission"),
        (1, "First year of the NDC implementation period"),
    ]


def test_policies_choose_the_spelling_written() -> None:
    policy = POLICIES[1]
    report = japan_report()
    acquired = to_json(report, policy)["Table 3: Actions"][0]
    assert acquired["Action type"] == "Aquisition"
    assert "Quantity (t\u00a0CO2\u00a0eq)" in acquired
    assert "Quantity (t CO2 eq)" not in acquired
    oimp = oimp_report()
    assert to_json(oimp, policy)["Table 2: Authorizations"][0]["Metric"] == "Non-GHG"
    assert to_json(oimp, policy)["Table 3: Actions"][0]["Metric"] == "non-GHG"
    assert (
        to_json(oimp, policy)["Table 2: Authorizations"][0]["First transfer definition for OIMP"]
        == "Use or Cancellation"
    )
    assert to_json(oimp)["Table 2: Authorizations"][0]["Metric"] == "non-GHG"
    assert (
        to_json(oimp)["Table 2: Authorizations"][0]["First transfer definition for OIMP"]
        == "Use or cancellation"
    )
    iso = to_json(oimp, POLICIES[2])["Table 3: Actions"][0]
    assert iso["Action date"] == "2025-06-30T23:59:58.123Z"
    assert (iso["First ID"], iso["Last ID"]) == (
        "CA0001-THA01-THA-1-2021",
        "CA0001-THA01-THA-1009-2021",
    )
    assert iso["Metric"] == "Non-GHG"
    assert to_json(oimp)["Table 3: Actions"][0]["Action date"] == "30/06/2025"
    assert to_json(thailand_report(), POLICIES[2])["Table 3: Actions"][0]["Action date"] == (
        "2025-11-11"
    )


def test_from_json_needs_exactly_one_submission_and_known_tables() -> None:
    with pytest.raises(AefValidationError) as raised:
        from_json({"Table 9: Other": [], "Table 3: Actions": {"not": "a list"}})
    assert raised.value.problems == (
        (T1, 0, "", "expected exactly one row, found 0"),
        (T1, 0, "", "unknown table 'Table 9: Other'"),
        (T3, 0, "", "expected a list of rows (header -> value)"),
    )


def test_csv_structure_problems_are_reported() -> None:
    with pytest.raises(AefValidationError) as raised:
        from_csv(T5, "")
    assert raised.value.problems == ((T5, 0, "", "no header line"),)
    header = list(headers(T5))
    row = ["30/10/2025", "Name", "THA", "42", "CA0001", "", "", "", "extra"]
    text = _csv(header + ["Name "], row)
    with pytest.raises(AefValidationError) as raised:
        from_csv(T5, text)
    assert raised.value.problems == ((T5, 1, "Name", "column given twice"),)
    with pytest.raises(AefValidationError) as raised:
        from_csv(T5, _csv(header, row))
    assert raised.value.problems == ((T5, 1, "", "value 'extra' in a column without header"),)
    assert from_csv(T5, _csv(header, row[:8], ["", "", ""])) == [
        AuthorizedEntityRow(
            date_of_authorization=date(2025, 10, 30),
            name="Name",
            country_of_incorporation="THA",
            identification_number="42",
            cooperative_approach_id="CA0001",
        )
    ]
