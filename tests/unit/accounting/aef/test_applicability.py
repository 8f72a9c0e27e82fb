"""AEF conditional columns: Table 3 fields 20-25 and the metric-dependent columns
(article6.md §3).
"""

from __future__ import annotations

from dataclasses import replace

from ledger.accounting.aef import (
    ActionSubtype,
    FirstTransferDefinition,
    Metric,
    Purpose,
    validate_report,
)
from tests.unit.accounting.aef.jcm import (
    ENTITY_ID,
    T2,
    T3,
    T4,
    acquisition,
    first_transfer,
    japan_holding,
    japan_report,
    jcm_authorization,
    jcm_entity,
    ndc_use,
    oimp_report,
    problems_of,
    thailand_report,
    with_actions,
)


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
