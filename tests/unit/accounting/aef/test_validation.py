"""AEF validation: required values, nomenclature values and identifier formats, blocks and
cross-table rules (article6.md §3).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from ledger.accounting.aef import (
    ActionSubtype,
    AefValidationError,
    SpellingPolicy,
    check_report,
    from_csv,
    from_json,
    to_csv,
    to_json,
    validate_report,
)
from ledger.errors import InvalidInput
from tests.unit.accounting.aef.jcm import (
    T1,
    T2,
    T3,
    T4,
    T5,
    acquisition,
    first_transfer,
    japan_holding,
    japan_report,
    jcm_authorization,
    jcm_entity,
    ndc_use,
    problems_of,
    thailand_report,
    with_actions,
)

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
