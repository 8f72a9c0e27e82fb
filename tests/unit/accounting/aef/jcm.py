"""The JCM flow as AEF rows, shared by the AEF tests (article6.md §6).

A hypothetical JCM flow modelled on the first JCM ITMOs:
Thailand first-transfers Japan's share of 1,009 t (vintage 2021) under cooperative approach
CA0001 from registry THA01, with JCM as the underlying unit registry; Japan reports the
acquisition, uses 1,000 t towards its NDC for calendar year 2030 and holds the other 9 t.
``oimp_report`` adds a non-GHG, OIMP-authorized flow; ``POLICIES`` are the spelling policies
every round trip runs under.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Final

import pytest

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
    Sector,
    SpellingPolicy,
    SubmissionRow,
    UnderlyingRegistry,
    validate_report,
)

CA = "CA0001"
AUTHORIZATION_ID = "THA-JCM-2025-001"
ENTITY_ID = "0105500000001"

T1: Final = AefTable.SUBMISSION
T2: Final = AefTable.AUTHORIZATIONS
T3: Final = AefTable.ACTIONS
T4: Final = AefTable.HOLDINGS
T5: Final = AefTable.ENTITIES


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
