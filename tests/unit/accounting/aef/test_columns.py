"""AEF tables and value lists: column specifications from aef-v2.json, nomenclature lists
(article6.md §3).
"""

from __future__ import annotations

from dataclasses import fields
from enum import StrEnum

import pytest

from ledger.accounting.aef import (
    ActionRow,
    ActionSubtype,
    ActionType,
    ActivityType,
    AefTable,
    FirstTransferDefinition,
    Metric,
    MitigationType,
    Purpose,
    Requirement,
    Sector,
    UnderlyingRegistry,
    headers,
    table_spec,
)
from ledger.accounting.aef.nomenclature import package_data, subtypes_by_type
from tests.unit.accounting.aef.jcm import (
    ACTION_HEADERS,
    T1,
    T2,
    T3,
    T4,
    T5,
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
    listed = package_data("nomenclature.json")["lists"][list_name]["values"]
    assert [member.value for member in enum] == listed


def test_first_transfer_definitions_use_the_annex_spelling() -> None:
    column = next(
        c for c in package_data("aef-v2.json")["tables"][1]["columns"] if c["order"] == 18
    )
    assert [d.value for d in FirstTransferDefinition] == column["allowed_values"]["annex_rows"]


def test_subtypes_depend_on_the_action_type() -> None:
    by_type = subtypes_by_type()
    assert ActionSubtype.ISSUANCE in by_type[ActionType.FIRST_TRANSFER]
    assert by_type[ActionType.ACQUISITION] == {ActionSubtype.NOT_YET_DEFINED}
    assert ActionSubtype.OTHER_CANCELLATIONS not in by_type[ActionType.TRANSFER]
    # 4/CMA.6 paras 16-17: an Adaptation Fund transfer is recorded as a first transfer.
    assert ActionSubtype.MANDATORY_TRANSFER_TO_ADAPTATION_FUND in by_type[ActionType.FIRST_TRANSFER]
