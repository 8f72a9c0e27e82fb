"""AEF of decision 4/CMA.6 annex II: tables, validation, JSON and CSV (article6.md §3).

The fixture is a hypothetical JCM flow modelled on the first JCM ITMOs (article6.md §6):
Thailand first-transfers Japan's share of 1,009 t (vintage 2021) under cooperative approach
CA0001 from registry THA01, with JCM as the underlying unit registry; Japan reports the
acquisition, uses 1,000 t towards its NDC for calendar year 2030 and holds the other 9 t.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import fields, replace
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Final

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.accounting import aef
from ledger.accounting.aef import (
    DEFAULT_POLICY,
    AcquisitionSpelling,
    ActionDateFormat,
    ActionRow,
    ActionSubtype,
    ActionType,
    ActivityType,
    AefProblem,
    AefReport,
    AefTable,
    AefValidationError,
    AuthorizationRow,
    AuthorizedEntityRow,
    FirstTransferDefinition,
    FirstTransferDefinitionSpelling,
    HoldingRow,
    ItmoIdFormat,
    Metric,
    MetricSpelling,
    MitigationType,
    Purpose,
    Requirement,
    Sector,
    SpellingPolicy,
    SubmissionRow,
    UnderlyingRegistry,
    check_report,
    from_csv,
    from_json,
    headers,
    table_spec,
    to_csv,
    to_json,
    validate_report,
)
from ledger.errors import InvalidInput

CA = "CA0001"
AUTHORIZATION_ID = "THA-JCM-2025-001"
ENTITY_ID = "0105500000001"

T1: Final = AefTable.SUBMISSION
T2: Final = AefTable.AUTHORIZATIONS
T3: Final = AefTable.ACTIONS
T4: Final = AefTable.HOLDINGS
T5: Final = AefTable.ENTITIES


# --------------------------------------------------------------------------------------------
# Fixture: the JCM flow
# --------------------------------------------------------------------------------------------


def jcm_authorization() -> AuthorizationRow:
    return AuthorizationRow(
        authorization_id=AUTHORIZATION_ID,
        date_of_authorization=date(2025, 10, 30),
        cooperative_approach_id=CA,
        authorization_version=1,
        authorized_quantity=1009,
        metric=Metric.GHG,
        gwp_values="IPCC AR5, 100-year",
        sectors=(Sector.ENERGY_GENERATION,),
        activity_types=(ActivityType.SOLAR,),
        purposes=Purpose.NDC,
        authorized_party_ids=("JPN",),
        authorized_entity_ids=(ENTITY_ID,),
        authorized_timeframe="2021 - 2030",
        additional_information="Hypothetical test data: 5 MW floating solar, JCM.",
    )


def jcm_entity() -> AuthorizedEntityRow:
    return AuthorizedEntityRow(
        date_of_authorization=date(2025, 10, 30),
        name="Hypothetical Floating Solar Co., Ltd.",
        country_of_incorporation="THA",
        identification_number=ENTITY_ID,
        cooperative_approach_id=CA,
        conditions="Project participant of the JCM project",
    )


def first_transfer() -> ActionRow:
    return ActionRow(
        action_date=date(2025, 11, 11),
        action_type=ActionType.FIRST_TRANSFER,
        action_subtype=ActionSubtype.FIRST_TRANSFER_TO_ANOTHER_PARTY,
        cooperative_approach_id=CA,
        authorization_id=AUTHORIZATION_ID,
        first_transferring_party_id="THA",
        registry_id="THA01",
        first_id=1,
        last_id=1009,
        underlying_registry_id=UnderlyingRegistry.JCM,
        first_unit_id=500001,
        last_unit_id=501009,
        metric=Metric.GHG,
        quantity=1009,
        mitigation_type=MitigationType.EMISSION_REDUCTIONS,
        vintage=2021,
        acquiring_party_id="JPN",
    )


def thailand_report() -> AefReport:
    return AefReport(
        submission=SubmissionRow(
            party="THA",
            version="1.0",
            reported_year=2025,
            date_of_submission=date(2026, 4, 15),
            ndc_first_year=2021,
            ndc_last_year=2030,
        ),
        authorizations=(jcm_authorization(),),
        actions=(first_transfer(),),
        entities=(jcm_entity(),),
    )


def acquisition() -> ActionRow:
    return replace(
        first_transfer(),
        action_type=ActionType.ACQUISITION,
        action_subtype=None,
        acquiring_party_id=None,
        transferring_party_id="THA",
    )


def ndc_use() -> ActionRow:
    return replace(
        first_transfer(),
        action_date=date(2025, 12, 19),
        action_type=ActionType.USE,
        action_subtype=None,
        last_id=1000,
        last_unit_id=501000,
        quantity=1000,
        acquiring_party_id=None,
        ndc_use_year=2030,
        additional_information="JCM credits moved to the cancellation account",
    )


def japan_holding() -> HoldingRow:
    return HoldingRow(
        cooperative_approach_id=CA,
        authorization_id=AUTHORIZATION_ID,
        first_transferring_party_id="THA",
        registry_id="THA01",
        first_id=1001,
        last_id=1009,
        underlying_registry_id=UnderlyingRegistry.JCM,
        first_unit_id=501001,
        last_unit_id=501009,
        metric=Metric.GHG,
        quantity=9,
        mitigation_type=MitigationType.EMISSION_REDUCTIONS,
        vintage=2021,
    )


def japan_report() -> AefReport:
    return AefReport(
        submission=SubmissionRow(
            party="JPN",
            version="1.0",
            reported_year=2025,
            date_of_submission=date(2026, 4, 10),
            ndc_first_year=2021,
            ndc_last_year=2030,
        ),
        authorizations=(jcm_authorization(),),
        actions=(acquisition(), ndc_use()),
        holdings=(japan_holding(),),
    )


def problems_of(report: AefReport) -> list[AefProblem]:
    with pytest.raises(AefValidationError) as raised:
        validate_report(report)
    return list(raised.value.problems)


def with_actions(*actions: ActionRow, report: AefReport | None = None) -> AefReport:
    return replace(report or japan_report(), actions=actions)


# --------------------------------------------------------------------------------------------
# Table definitions and value lists
# --------------------------------------------------------------------------------------------

ACTION_HEADERS = (
    "Action date",
    "Action type",
    "Action subtype",
    "Cooperative approach ID",
    "Authorization ID",
    "First transferring participating Party ID",
    "Party ITMO registry ID",
    "First ID",
    "Last ID",
    "Underlying unit registry ID",
    "First unit ID",
    "Last unit ID",
    "Metric",
    "Applicable GWP value(s)",
    "Applicable non-GHG metric",
    "Quantity (t CO2 eq)",
    "Quantity (in non-GHG metric)",
    "Mitigation type",
    "Vintage",
    "Transferring participating Party ID",
    "Acquiring participating Party ID",
    "Purpose for which the ITMO has been used towards or cancelled for OIMP",
    "Using/cancelling participating Party ID",
    "Using/cancelling authorized entity ID",
    "Calendar year for which the ITMOs are used towards the Party's NDC",
    "Result of the consistency checks",
    "Additional explanatory information",
)


def test_tables_have_the_annex_column_counts_titles_and_sheet_names() -> None:
    assert [len(headers(table)) for table in AefTable] == [9, 19, 27, 16, 8]
    assert [table.sheet_name for table in AefTable] == [
        "Table 1 Submission",
        "Table 2 Authorizations",
        "Table 3 Actions",
        "Table 4 Holdings",
        "Table 5 Auth. entities",
    ]
    assert [table.number for table in AefTable] == [1, 2, 3, 4, 5]
    for table in AefTable:
        spec = table_spec(table)
        assert spec.title == table.value
        assert [column.order for column in spec.columns] == list(range(1, len(spec.columns) + 1))


def test_action_headers_are_the_27_annex_headers_in_order() -> None:
    assert headers(T3) == ACTION_HEADERS
    assert [f.name for f in fields(ActionRow)][24] == "ndc_use_year"
    assert table_spec(T3).column("ndc_use_year").header == ACTION_HEADERS[24]


def test_row_fields_bind_to_their_headers() -> None:
    expected = {
        T1: {
            "party": "Party",
            "date_of_submission": "Date of submission",
            "ndc_last_year": "Last year of the NDC implementation period",
            "ter_report_reference": "Reference to the Article 6 technical expert review report "
            "of the initial report",
        },
        T2: {
            "authorization_version": "Version of the authorization",
            "purposes": "Purposes for authorization",
            "authorized_party_ids": "Authorized Party(ies) ID",
            "first_transfer_definition": "First transfer definition for OIMP",
            "documentation": "Authorization documentation",
        },
        T4: {
            "cooperative_approach_id": "Cooperative approach ID",
            "quantity": "Quantity (t CO2 eq)",
            "vintage": "Vintage",
        },
        T5: {
            "date_of_authorization": "Date of the authorization",
            "identification_number": "Identification number",
            "change_and_revocation_conditions": "Change and revocation conditions",
        },
    }
    for table, mapping in expected.items():
        for field_name, header in mapping.items():
            assert table_spec(table).column(field_name).header == header


def test_requirement_status_comes_from_the_specification() -> None:
    t3 = table_spec(T3)
    assert t3.column("action_date").requirement is Requirement.REQUIRED
    assert t3.column("action_subtype").requirement is Requirement.OPTIONAL
    assert t3.column("transferring_party_id").requirement is Requirement.CONDITIONAL
    assert t3.column("consistency_check_result").requirement is Requirement.CARP_POPULATED
    t1 = table_spec(T1)
    carp = [c.header for c in t1.columns if c.requirement is Requirement.CARP_POPULATED]
    assert len(carp) == 3
    assert table_spec(T2).column("activity_types").requirement is Requirement.UNCLEAR


def test_spacer_columns_follow_the_annex() -> None:
    spacers = {
        table: [c.header for c in table_spec(table).columns if c.spacer_after] for table in AefTable
    }
    assert spacers[T2] == ["Version of the authorization"]
    assert spacers[T3] == [
        "Last ID",
        "Last unit ID",
        "Quantity (in non-GHG metric)",
        "Vintage",
        "Acquiring participating Party ID",
        "Calendar year for which the ITMOs are used towards the Party's NDC",
    ]
    assert spacers[T4] == ["Last ID", "Last unit ID", "Quantity (in non-GHG metric)"]


@pytest.mark.parametrize(
    ("enum", "list_name"),
    [
        (Metric, "metric"),
        (Sector, "sectors"),
        (Purpose, "purposes_for_authorization"),
        (ActionType, "action_types"),
        (ActionSubtype, "action_subtypes"),
        (UnderlyingRegistry, "underlying_unit_registry_ids"),
        (MitigationType, "mitigation_types"),
        (ActivityType, "activity_types"),
    ],
)
def test_enums_match_the_nomenclature_lists(enum: type[StrEnum], list_name: str) -> None:
    listed = aef._data("nomenclature.json")["lists"][list_name]["values"]
    assert [member.value for member in enum] == listed


def test_first_transfer_definitions_use_the_annex_spelling() -> None:
    column = next(c for c in aef._data("aef-v2.json")["tables"][1]["columns"] if c["order"] == 18)
    assert [d.value for d in FirstTransferDefinition] == column["allowed_values"]["annex_rows"]


def test_subtypes_depend_on_the_action_type() -> None:
    by_type = aef._subtypes_by_type()
    assert ActionSubtype.ISSUANCE in by_type[ActionType.FIRST_TRANSFER]
    assert by_type[ActionType.ACQUISITION] == {ActionSubtype.NOT_YET_DEFINED}
    assert ActionSubtype.OTHER_CANCELLATIONS not in by_type[ActionType.TRANSFER]
    # 4/CMA.6 paras 16-17: an Adaptation Fund transfer is recorded as a first transfer.
    assert ActionSubtype.MANDATORY_TRANSFER_TO_ADAPTATION_FUND in by_type[ActionType.FIRST_TRANSFER]


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

POLICIES = [
    DEFAULT_POLICY,
    SpellingPolicy(
        acquisition=AcquisitionSpelling.ANNEX,
        first_transfer_definition=FirstTransferDefinitionSpelling.NOMENCLATURE,
        metric=MetricSpelling.ANNEX,
        emit_na=True,
        quantity_header_nbsp=True,
    ),
    SpellingPolicy(
        action_date=ActionDateFormat.ISO_8601_UTC,
        itmo_id=ItmoIdFormat.COMPOSITE,
        metric=MetricSpelling.CAPITALISED,
    ),
]


def oimp_report() -> AefReport:
    """A non-GHG, OIMP-authorized flow with a date-time action date, to reach every codec."""
    authorization = replace(
        jcm_authorization(),
        authorization_id="THA OIMP 7",
        metric=Metric.NON_GHG,
        non_ghg_metric="MWh of renewable electricity",
        purposes=Purpose.NDC_AND_OIMP,
        oimp_authorized="CORSIA",
        first_transfer_definition=FirstTransferDefinition.USE_OR_CANCELLATION,
        sectors=(Sector.ENERGY_GENERATION, Sector.CROSS_SECTORAL_MECHANISMS),
        activity_types=(ActivityType.CO2_USAGE, ActivityType.COAL_BED_MINE_METHANE),
    )
    action = replace(
        first_transfer(),
        action_date=datetime(2025, 6, 30, 23, 59, 58, 123000, tzinfo=UTC),
        action_subtype=ActionSubtype.USE_OR_CANCELLATION,
        authorization_id="THA OIMP 7",
        metric=Metric.NON_GHG,
        non_ghg_metric="MWh of renewable electricity",
        quantity_non_ghg=2500,
        acquiring_party_id=None,
        oimp_purpose="CORSIA first phase",
        using_party_id="CHE",
        underlying_registry_id=None,
        first_unit_id=None,
        last_unit_id=None,
    )
    return replace(thailand_report(), authorizations=(authorization,), actions=(action,))


REPORTS = {"thailand": thailand_report, "japan": japan_report, "oimp": oimp_report}


def report_and_policy(name: str, policy: SpellingPolicy) -> tuple[AefReport, SpellingPolicy]:
    """The named report, and the policy with ISO date-times where the report has date-times
    (under dd/mm/yyyy a date-time is written as its UTC date)."""
    report = REPORTS[name]()
    if any(isinstance(action.action_date, datetime) for action in report.actions):
        policy = replace(policy, action_date=ActionDateFormat.ISO_8601_UTC)
    return report, policy


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
# Required values
# --------------------------------------------------------------------------------------------


def test_missing_cooperative_approach_id_names_table_row_and_column() -> None:
    report = replace(
        thailand_report(),
        authorizations=(replace(jcm_authorization(), cooperative_approach_id=""),),
    )
    assert problems_of(report) == [
        (T2, 1, "Cooperative approach ID", "required value is missing"),
    ]


def test_missing_purposes_fails_on_import_with_table_row_and_column() -> None:
    records = to_json(thailand_report())["Table 2: Authorizations"]
    second = dict(records[0], **{"Authorization ID": "THA-JCM-2025-002"})
    second["Purposes for authorization"] = None
    with pytest.raises(AefValidationError) as raised:
        from_json(
            {
                "Table 1: Submission": to_json(thailand_report())["Table 1: Submission"],
                "Table 2: Authorizations": [records[0], second],
            }
        )
    assert raised.value.problems == (
        (T2, 2, "Purposes for authorization", "required value is missing"),
    )
    csv_text = to_csv(thailand_report(), T2).replace(",NDC,JPN,", ",,JPN,")
    with pytest.raises(AefValidationError) as raised:
        from_csv(T2, csv_text)
    assert raised.value.problems == (
        (T2, 1, "Purposes for authorization", "required value is missing"),
    )


def test_validation_error_is_invalid_input_with_every_problem() -> None:
    report = replace(
        thailand_report(),
        submission=replace(thailand_report().submission, party="", version="1"),
        authorizations=(replace(jcm_authorization(), cooperative_approach_id="", sectors=()),),
    )
    with pytest.raises(InvalidInput) as raised:
        validate_report(report)
    error = raised.value
    assert isinstance(error, AefValidationError)
    assert error.rule == "aef-format"
    assert error.problems == (
        (T1, 1, "Party", "required value is missing"),
        (T1, 1, "Version", "'1' is not X.Y, the first version being 1.0"),
        (T2, 1, "Cooperative approach ID", "required value is missing"),
        (T2, 1, "Sector(s)", "required value is missing"),
    )
    assert error.details["problems"][0] == {
        "table": T1,
        "row": 1,
        "column": "Party",
        "message": "required value is missing",
    }
    assert "4 problem(s)" in error.message


def test_missing_required_value_is_never_written_as_na() -> None:
    policy = SpellingPolicy(emit_na=True)
    report = replace(
        thailand_report(),
        authorizations=(replace(jcm_authorization(), cooperative_approach_id=""),),
    )
    (row,) = to_json(report, policy)["Table 2: Authorizations"]
    assert row["Cooperative approach ID"] is None
    # Not applicable to an NDC-only GHG authorization: written as NA under this policy.
    assert row["Applicable non-GHG metric"] == "NA"
    assert row["OIMP authorized by the Party"] == "NA"
    assert row["First transfer definition for OIMP"] == "NA"
    # Optional and blank, or CARP-populated: left blank.
    assert row["Authorization terms and conditions"] is None
    assert row["Authorization documentation"] is None
    assert (
        to_json(thailand_report())["Table 2: Authorizations"][0]["Applicable non-GHG metric"]
        is None
    )


def test_na_is_written_only_where_a_column_does_not_apply() -> None:
    policy = SpellingPolicy(emit_na=True)
    acquired, used = to_json(japan_report(), policy)["Table 3: Actions"]
    assert acquired["Acquiring participating Party ID"] == "NA"
    assert acquired["Calendar year for which the ITMOs are used towards the Party's NDC"] == "NA"
    assert acquired["Quantity (in non-GHG metric)"] == "NA"
    assert acquired["Applicable GWP value(s)"] is None
    assert acquired["Using/cancelling participating Party ID"] == "NA"
    assert used["Purpose for which the ITMO has been used towards or cancelled for OIMP"] == "NA"
    assert used["Using/cancelling participating Party ID"] is None
    assert used["Result of the consistency checks"] is None
    (held,) = to_json(
        replace(
            japan_report(),
            holdings=(
                replace(
                    japan_holding(),
                    underlying_registry_id=None,
                    first_unit_id=None,
                    last_unit_id=None,
                ),
            ),
        ),
        policy,
    )["Table 4: Holdings"]
    assert held["Underlying unit registry ID"] == "NA"
    assert (held["First unit ID"], held["Last unit ID"]) == ("NA", "NA")
    assert acquired["Underlying unit registry ID"] == "JCM"


# --------------------------------------------------------------------------------------------
# Conditional columns (Table 3 fields 20-25 and the metric-dependent columns)
# --------------------------------------------------------------------------------------------


def test_transferring_party_applies_only_to_acquisitions() -> None:
    report = with_actions(
        replace(acquisition(), transferring_party_id=None),
        replace(ndc_use(), transferring_party_id="THA"),
    )
    assert problems_of(report) == [
        (
            T3,
            1,
            "Transferring participating Party ID",
            "required value is missing (on Acquisition rows)",
        ),
        (
            T3,
            2,
            "Transferring participating Party ID",
            "not applicable: applies only to Acquisition rows; leave it blank",
        ),
    ]


def test_acquiring_party_applies_only_to_first_transfers_and_transfers() -> None:
    report = with_actions(
        replace(acquisition(), acquiring_party_id="JPN"),
        replace(
            ndc_use(),
            first_id=2000,
            last_id=2000,
            quantity=1,
            acquiring_party_id="JPN",
            first_unit_id=None,
            last_unit_id=None,
        ),
    )
    message = "not applicable: applies only to First transfer and Transfer rows; leave it blank"
    assert problems_of(report) == [
        (T3, 1, "Acquiring participating Party ID", message),
        (T3, 2, "Acquiring participating Party ID", message),
    ]
    missing = replace(
        thailand_report(), actions=(replace(first_transfer(), acquiring_party_id=None),)
    )
    assert problems_of(missing) == [
        (
            T3,
            1,
            "Acquiring participating Party ID",
            "required value is missing (on a First transfer to another Party)",
        ),
    ]


def test_calendar_year_of_use_applies_only_to_ndc_use() -> None:
    report = with_actions(
        replace(acquisition(), ndc_use_year=2030),
        replace(ndc_use(), ndc_use_year=None),
    )
    assert problems_of(report) == [
        (
            T3,
            1,
            "Calendar year for which the ITMOs are used towards the Party's NDC",
            "not applicable: applies only to Use rows towards the Party's NDC; leave it blank",
        ),
        (
            T3,
            2,
            "Calendar year for which the ITMOs are used towards the Party's NDC",
            "required value is missing (on a Use towards the Party's NDC; for a use towards "
            "OIMP give the OIMP purpose instead)",
        ),
    ]


def test_use_for_oimp_gives_the_purpose_instead_of_the_calendar_year() -> None:
    oimp_use = replace(ndc_use(), ndc_use_year=None, oimp_purpose="CORSIA")
    validate_report(with_actions(acquisition(), oimp_use))
    both = replace(ndc_use(), oimp_purpose="CORSIA")
    assert [p.column for p in problems_of(with_actions(acquisition(), both))] == [
        "Purpose for which the ITMO has been used towards or cancelled for OIMP",
        "Calendar year for which the ITMOs are used towards the Party's NDC",
    ]


def test_oimp_purpose_does_not_apply_to_acquisitions_or_ndc_only_first_transfers() -> None:
    report = with_actions(replace(acquisition(), oimp_purpose="CORSIA"), ndc_use())
    assert problems_of(report) == [
        (
            T3,
            1,
            "Purpose for which the ITMO has been used towards or cancelled for OIMP",
            "not applicable: applies only to Use, Cancellation and OIMP First transfer rows; "
            "leave it blank",
        ),
    ]
    ndc_only = replace(
        thailand_report(), actions=(replace(first_transfer(), oimp_purpose="CORSIA"),)
    )
    assert problems_of(ndc_only) == [
        (
            T3,
            1,
            "Purpose for which the ITMO has been used towards or cancelled for OIMP",
            "authorization 'THA-JCM-2025-001' does not cover OIMP, IMP or OP",
        ),
    ]


def test_oimp_first_transfer_needs_purpose_and_the_authorized_definition() -> None:
    report = oimp_report()
    (action,) = report.actions
    wrong = replace(
        report, actions=(replace(action, action_subtype=ActionSubtype.ISSUANCE, oimp_purpose=None),)
    )
    assert problems_of(wrong) == [
        (
            T3,
            1,
            "Action subtype",
            "authorization 'THA OIMP 7' defines the OIMP first transfer as Use or cancellation",
        ),
        (
            T3,
            1,
            "Purpose for which the ITMO has been used towards or cancelled for OIMP",
            "required value is missing (on an OIMP first transfer (subtype Authorization, "
            "Issuance or Use or cancellation))",
        ),
    ]


def test_using_party_and_entity_apply_to_use_cancellation_and_first_transfer() -> None:
    report = with_actions(
        replace(acquisition(), using_party_id="JPN"),
        replace(ndc_use(), using_entity_id="unknown-entity"),
    )
    assert problems_of(report) == [
        (
            T3,
            1,
            "Using/cancelling participating Party ID",
            "not applicable: applies only to Use, Cancellation and First transfer rows; "
            "leave it blank",
        ),
        (
            T3,
            2,
            "Using/cancelling authorized entity ID",
            "entity 'unknown-entity' is not reported in Table 5: Authorized entities "
            "(Identification number)",
        ),
    ]
    with_entity = replace(
        japan_report(),
        actions=(acquisition(), replace(ndc_use(), using_entity_id=ENTITY_ID)),
        entities=(jcm_entity(),),
    )
    validate_report(with_entity)


def test_non_ghg_columns_apply_only_to_the_non_ghg_metric() -> None:
    report = with_actions(
        replace(acquisition(), quantity_non_ghg=5, non_ghg_metric="MWh"),
        replace(ndc_use(), metric=Metric.NON_GHG),
    )
    assert problems_of(report) == [
        (
            T3,
            1,
            "Applicable non-GHG metric",
            "not applicable: applies only when the metric is non-GHG; leave it blank",
        ),
        (
            T3,
            1,
            "Quantity (in non-GHG metric)",
            "not applicable: applies only when the metric is non-GHG; leave it blank",
        ),
        (T3, 2, "Applicable non-GHG metric", "required value is missing (the metric is non-GHG)"),
        (
            T3,
            2,
            "Quantity (in non-GHG metric)",
            "required value is missing (the metric is non-GHG)",
        ),
    ]


def test_authorization_oimp_columns_follow_the_purposes() -> None:
    report = replace(
        thailand_report(),
        authorizations=(
            replace(
                jcm_authorization(), first_transfer_definition=FirstTransferDefinition.ISSUANCE
            ),
            replace(jcm_authorization(), authorization_version=2, purposes=Purpose.OIMP),
        ),
    )
    assert problems_of(report) == [
        (
            T2,
            1,
            "First transfer definition for OIMP",
            "not applicable: applies only when the purposes include OIMP, IMP or OP; "
            "leave it blank",
        ),
        (
            T2,
            2,
            "OIMP authorized by the Party",
            "required value is missing (the purposes include OIMP, IMP or OP)",
        ),
        (
            T2,
            2,
            "First transfer definition for OIMP",
            "required value is missing (the purposes include OIMP, IMP or OP)",
        ),
    ]


def test_underlying_unit_ids_need_an_underlying_registry() -> None:
    report = replace(
        japan_report(), holdings=(replace(japan_holding(), underlying_registry_id=None),)
    )
    message = (
        "not applicable: applies only when an underlying unit registry ID is given; leave it blank"
    )
    assert problems_of(report) == [
        (T4, 1, "First unit ID", message),
        (T4, 1, "Last unit ID", message),
    ]


# --------------------------------------------------------------------------------------------
# Nomenclature values and identifier formats
# --------------------------------------------------------------------------------------------


def test_subtype_must_be_valid_for_the_action_type() -> None:
    report = with_actions(replace(acquisition(), action_subtype=ActionSubtype.ISSUANCE), ndc_use())
    (problem,) = problems_of(report)
    assert problem[:3] == (T3, 1, "Action subtype")
    assert problem.message == (
        "'Issuance' is not a subtype of 'Acquisition' (valid: Not yet defined)"
    )


def test_identifier_formats_are_checked() -> None:
    report = replace(
        japan_report(),
        submission=replace(japan_report().submission, party="Japan"),
        authorizations=(
            replace(
                jcm_authorization(), authorized_party_ids=("JPN", "jp"), authorization_id="THA/JCM"
            ),
        ),
        actions=(),
        holdings=(
            replace(
                japan_holding(),
                cooperative_approach_id="CA1",
                registry_id="THA1",
                authorization_id="THA/JCM",
            ),
        ),
    )
    assert problems_of(report) == [
        (T1, 1, "Party", "'Japan' is not an ISO 3166-1 alpha-3 code such as THA"),
        (T2, 1, "Authorization ID", "'THA/JCM' is not letters, digits, spaces and hyphens only"),
        (T2, 1, "Authorized Party(ies) ID", "'jp' is not an alpha-3 Party code"),
        (T4, 1, "Cooperative approach ID", "'CA1' is not CA followed by four digits"),
        (T4, 1, "Authorization ID", "'THA/JCM' is not letters, digits, spaces and hyphens only"),
        (
            T4,
            1,
            "Party ITMO registry ID",
            "'THA1' is not the Party code and two digits, such as THA01",
        ),
    ]


def test_values_outside_the_nomenclature_are_rejected_on_import() -> None:
    records = to_json(thailand_report())
    records["Table 2: Authorizations"][0].update(
        {
            "Sector(s)": "Energy generation, Mining",
            "Metric": "CO2",
            "Purposes for authorization": "NDC and CORSIA",
        }
    )
    records["Table 3: Actions"][0].update(
        {
            "Action type": "Issuance",
            "Mitigation type": "Avoidance",
            "Underlying unit registry ID": "XYZ",
        }
    )
    with pytest.raises(AefValidationError) as raised:
        from_json(records)
    assert [(p.table, p.row, p.column) for p in raised.value.problems] == [
        (T2, 1, "Metric"),
        (T2, 1, "Sector(s)"),
        (T2, 1, "Purposes for authorization"),
        (T3, 1, "Action type"),
        (T3, 1, "Underlying unit registry ID"),
        (T3, 1, "Mitigation type"),
    ]
    sector = raised.value.problems[1].message
    assert sector.startswith("'Mining' not in the common nomenclature list (Agriculture;")


def test_runtime_values_outside_the_enums_are_rejected() -> None:
    bogus = replace(jcm_authorization(), sectors=("Mining",))  # type: ignore[arg-type]
    report = replace(thailand_report(), authorizations=(bogus,))
    (problem,) = problems_of(report)
    assert problem[:3] == (T2, 1, "Sector(s)")


# --------------------------------------------------------------------------------------------
# Blocks and cross-table rules
# --------------------------------------------------------------------------------------------


def test_authorization_id_must_be_in_table_2() -> None:
    report = replace(japan_report(), authorizations=())
    message = "Authorization ID 'THA-JCM-2025-001' is not reported in Table 2: Authorizations"
    assert problems_of(report) == [
        (T3, 1, "Authorization ID", message),
        (T3, 2, "Authorization ID", message),
        (T4, 1, "Authorization ID", message),
    ]


def test_cooperative_approach_must_match_the_authorization() -> None:
    report = replace(
        japan_report(), holdings=(replace(japan_holding(), cooperative_approach_id="CA0002"),)
    )
    assert problems_of(report) == [
        (
            T4,
            1,
            "Cooperative approach ID",
            "authorization 'THA-JCM-2025-001' is under cooperative approach CA0001 in "
            "Table 2: Authorizations, not CA0002",
        ),
    ]


def test_block_first_id_must_not_exceed_last_id() -> None:
    report = with_actions(acquisition(), replace(ndc_use(), first_id=1001, last_id=1000))
    assert problems_of(report) == [(T3, 2, "Last ID", "Last ID 1000 is before First ID 1001")]


def test_ghg_quantity_equals_the_block_length() -> None:
    report = with_actions(replace(acquisition(), quantity=1008), ndc_use())
    assert problems_of(report) == [
        (
            T3,
            1,
            "Quantity (t CO2 eq)",
            "quantity 1008 does not match the block 1-1009 (1009 units)",
        ),
    ]


def test_underlying_unit_block_is_a_pair_in_order() -> None:
    report = replace(
        japan_report(),
        actions=(replace(acquisition(), first_unit_id=None),),
        holdings=(replace(japan_holding(), first_unit_id=501009, last_unit_id=501001),),
    )
    assert problems_of(report) == [
        (T3, 1, "First unit ID", "give both First unit ID and Last unit ID, or neither"),
        (T4, 1, "Last unit ID", "Last unit ID 501001 is before First unit ID 501009"),
    ]


def test_overlapping_holdings_blocks_are_rejected() -> None:
    holdings = (
        japan_holding(),
        replace(
            japan_holding(),
            first_id=1009,
            last_id=1010,
            quantity=2,
            first_unit_id=None,
            last_unit_id=None,
        ),
        replace(
            japan_holding(),
            first_id=1009,
            last_id=1009,
            quantity=1,
            vintage=2022,
            first_unit_id=None,
            last_unit_id=None,
        ),
        replace(
            japan_holding(),
            first_id=1011,
            last_id=1011,
            quantity=1,
            first_unit_id=None,
            last_unit_id=None,
        ),
    )
    report = replace(japan_report(), holdings=holdings)
    assert problems_of(report) == [
        (T4, 2, "First ID", "block 1009-1010 overlaps the block in row 1"),
    ]


def test_action_dates_fall_in_the_reported_year() -> None:
    late = replace(
        ndc_use(), action_date=datetime(2026, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=9)))
    )
    assert check_report(with_actions(acquisition(), late)) == []  # 31 Dec 2025 15:30 UTC
    later = replace(ndc_use(), action_date=date(2026, 1, 1))
    assert problems_of(with_actions(acquisition(), later)) == [
        (T3, 2, "Action date", "the action date is outside the reported year 2025"),
    ]


def test_action_date_times_are_utc_with_milliseconds() -> None:
    naive = replace(ndc_use(), action_date=datetime(2025, 12, 19, 10, 0))
    fine = replace(ndc_use(), action_date=datetime(2025, 12, 19, 10, 0, 0, 1, tzinfo=UTC))
    assert problems_of(with_actions(naive, fine)) == [
        (T3, 1, "Action date", "a date-time must be timezone-aware (UTC)"),
        (T3, 2, "Action date", "the AEF date-time carries milliseconds, not microseconds"),
    ]


def test_ndc_use_year_falls_in_the_ndc_period() -> None:
    report = with_actions(acquisition(), replace(ndc_use(), ndc_use_year=2031))
    assert problems_of(report) == [
        (
            T3,
            2,
            "Calendar year for which the ITMOs are used towards the Party's NDC",
            "2031 is outside the NDC implementation period 2021-2030",
        ),
    ]


def test_first_transfer_is_reported_by_the_first_transferring_party() -> None:
    report = with_actions(first_transfer())
    assert problems_of(report) == [
        (
            T3,
            1,
            "First transferring participating Party ID",
            "a First transfer is reported by the first transferring Party; this report is JPN's",
        ),
    ]


def test_duplicates_and_period_order_are_rejected() -> None:
    report = replace(
        thailand_report(),
        submission=replace(thailand_report().submission, ndc_first_year=2031),
        authorizations=(jcm_authorization(), jcm_authorization()),
        entities=(jcm_entity(), jcm_entity()),
    )
    assert problems_of(report) == [
        (T1, 1, "Last year of the NDC implementation period", "2030 is before the first year 2031"),
        (
            T2,
            2,
            "Version of the authorization",
            "authorization 'THA-JCM-2025-001' version 1 is already in row 1",
        ),
        (T5, 2, "Identification number", "entity '0105500000001' under CA0001 is already in row 1"),
    ]


def test_text_hygiene_keeps_the_round_trip_exact() -> None:
    report = replace(
        thailand_report(),
        authorizations=(
            replace(
                jcm_authorization(),
                gwp_values=" ",
                additional_information="NA",
                authorized_entity_ids=("a, b",),
            ),
        ),
    )
    assert problems_of(report) == [
        (T2, 1, "Applicable GWP value(s)", "blank text; leave the field as None"),
        (
            T2,
            1,
            "Authorized entity(ies) ID",
            "list item 'a, b' must not contain ',', ';' or a line break",
        ),
        (
            T2,
            1,
            "Additional explanatory information",
            "'NA' marks a column that does not apply; give the value or leave the field as None",
        ),
    ]


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
