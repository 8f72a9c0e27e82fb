"""Typed rows of the five AEF tables (4/CMA.6 annex II) and :class:`AefReport`, one submission."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final, TypeAlias

from ledger.accounting.aef.nomenclature import (
    ActionSubtype,
    ActionType,
    ActivityType,
    AefTable,
    Sector,
    UnderlyingRegistry,
)
from ledger.registry.model import FirstTransferDefinition, Metric, MitigationType, Purpose


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmissionRow:
    """Table 1: Submission, one record per reported year and version (annex II Table 1).

    The three CARP-populated fields are read from a file returned by CARP, but they are always
    written empty, and :func:`validate_report` rejects a report that sets them.
    """

    party: str
    """Party: reporting Party, ISO 3166-1 alpha-3 (nomenclature)."""
    version: str
    """Version: ``X.Y``; the first version is ``1.0``."""
    reported_year: int
    """Reported year: the 1 January-31 December period in which the actions took place."""
    date_of_submission: date
    """Date of submission (``dd/mm/yyyy``)."""
    review_status: str | None = None
    """Review status of the initial report (CARP-populated)."""
    consistency_check_result: str | None = None
    """Result of the consistency check of this AEF submission (CARP-populated)."""
    ndc_first_year: int
    """First year of the NDC implementation period."""
    ndc_last_year: int
    """Last year of the NDC implementation period."""
    ter_report_reference: str | None = None
    """Reference to the Article 6 technical expert review report (CARP-populated link)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizationRow:
    """Table 2: Authorizations, one row per authorization version (annex II Table 2)."""

    authorization_id: str
    """Authorization ID, assigned by the Party: letters, digits, space and hyphen."""
    date_of_authorization: date
    """Date of authorization."""
    cooperative_approach_id: str
    """Cooperative approach ID, ``CA`` + four digits, assigned by CARP."""
    authorization_version: int
    """Version of the authorization (1, 2, ...)."""
    authorized_quantity: int | None = None
    """Authorized quantity: optional maximum."""
    metric: Metric
    """Metric."""
    gwp_values: str | None = None
    """Applicable GWP value(s)."""
    non_ghg_metric: str | None = None
    """Applicable non-GHG metric: only when the metric is non-GHG."""
    sectors: tuple[Sector, ...]
    """Sector(s): at least one."""
    activity_types: tuple[ActivityType, ...] = ()
    """Activity type(s): requiredness unclear in the sources; treated as optional."""
    purposes: Purpose
    """Purposes for authorization."""
    authorized_party_ids: tuple[str, ...] = ()
    """Authorized Party(ies) ID: alpha-3 codes; empty means any Party."""
    authorized_entity_ids: tuple[str, ...] = ()
    """Authorized entity(ies) ID."""
    oimp_authorized: str | None = None
    """OIMP authorized by the Party (e.g. CORSIA): only when the purposes cover OIMP."""
    authorized_timeframe: str | None = None
    """Authorized timeframe: free text (the sources give three different formats)."""
    terms_and_conditions: str | None = None
    """Authorization terms and conditions."""
    documentation: str | None = None
    """Authorization documentation (CARP-populated hyperlink)."""
    first_transfer_definition: FirstTransferDefinition | None = None
    """First transfer definition for OIMP: only when the purposes cover OIMP."""
    additional_information: str | None = None
    """Additional explanatory information."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionRow:
    """Table 3: Actions, one row per homogeneous ITMO block and action (annex II Table 3).

    ``action_date`` is a :class:`datetime.date` or a timezone-aware :class:`datetime.datetime`
    (UTC, millisecond precision). Fields 20-25 apply only to some action types; see
    :func:`validate_report`.
    """

    action_date: date
    """1. Action date: when the action was executed in the Party ITMO registry."""
    action_type: ActionType
    """2. Action type."""
    action_subtype: ActionSubtype | None = None
    """3. Action subtype: must be valid for the action type."""
    cooperative_approach_id: str
    """4. Cooperative approach ID."""
    authorization_id: str
    """5. Authorization ID: must be reported in Table 2."""
    first_transferring_party_id: str
    """6. First transferring participating Party ID."""
    registry_id: str
    """7. Party ITMO registry ID: Party code + two digits, e.g. ``THA01``."""
    first_id: int
    """8. First ID: first serial of the ITMO block."""
    last_id: int
    """9. Last ID: last serial of the ITMO block."""
    underlying_registry_id: UnderlyingRegistry | None = None
    """10. Underlying unit registry ID; ``None`` ("NA") if there is none."""
    first_unit_id: int | None = None
    """11. First unit ID of the underlying unit block."""
    last_unit_id: int | None = None
    """12. Last unit ID of the underlying unit block."""
    metric: Metric
    """13. Metric."""
    gwp_values: str | None = None
    """14. Applicable GWP value(s)."""
    non_ghg_metric: str | None = None
    """15. Applicable non-GHG metric: only for the non-GHG metric."""
    quantity: int | None
    """16. Quantity (t CO2 eq): required; ``None`` (left blank, a finding of
    :func:`check_report`) for non-GHG units whose conversion to t CO2 eq is not recorded."""
    quantity_non_ghg: int | None = None
    """17. Quantity (in non-GHG metric): only for the non-GHG metric."""
    mitigation_type: MitigationType
    """18. Mitigation type."""
    vintage: int
    """19. Vintage: calendar year in which the mitigation outcome occurred."""
    transferring_party_id: str | None = None
    """20. Transferring participating Party ID: Acquisition rows only."""
    acquiring_party_id: str | None = None
    """21. Acquiring participating Party ID: First transfer and Transfer rows only."""
    oimp_purpose: str | None = None
    """22. Purpose for which the ITMO has been used towards or cancelled for OIMP."""
    using_party_id: str | None = None
    """23. Using/cancelling participating Party ID."""
    using_entity_id: str | None = None
    """24. Using/cancelling authorized entity ID: must be reported in Table 5."""
    ndc_use_year: int | None = None
    """25. Calendar year for which the ITMOs are used towards the Party's NDC: NDC use only."""
    consistency_check_result: str | None = None
    """26. Result of the consistency checks (CARP-populated)."""
    additional_information: str | None = None
    """27. Additional explanatory information."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldingRow:
    """Table 4: Holdings, one row per ITMO block held (annex II Table 4).

    The table has no year column; the year is Table 1's reported year.
    """

    cooperative_approach_id: str
    authorization_id: str
    first_transferring_party_id: str
    registry_id: str
    first_id: int
    last_id: int
    underlying_registry_id: UnderlyingRegistry | None = None
    first_unit_id: int | None = None
    last_unit_id: int | None = None
    metric: Metric
    gwp_values: str | None = None
    non_ghg_metric: str | None = None
    quantity: int | None
    quantity_non_ghg: int | None = None
    mitigation_type: MitigationType
    vintage: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizedEntityRow:
    """Table 5: Authorized entities, one row per entity and cooperative approach (annex II)."""

    date_of_authorization: date
    """Date of the authorization: date on which the authorization was issued."""
    name: str
    country_of_incorporation: str
    """Country of incorporation (alpha-3 per the field specification, a name per the
    checkers; not pattern-checked)."""
    identification_number: str
    """Identification number in the country of incorporation."""
    cooperative_approach_id: str
    conditions: str | None = None
    change_and_revocation_conditions: str | None = None
    additional_information: str | None = None


AefRow: TypeAlias = SubmissionRow | AuthorizationRow | ActionRow | HoldingRow | AuthorizedEntityRow
"""Any AEF row."""

Cell: TypeAlias = str | int | None
"""A rendered cell: text, an integer, or blank."""

ROW_TYPES: Final[Mapping[AefTable, type[AefRow]]] = {
    AefTable.SUBMISSION: SubmissionRow,
    AefTable.AUTHORIZATIONS: AuthorizationRow,
    AefTable.ACTIONS: ActionRow,
    AefTable.HOLDINGS: HoldingRow,
    AefTable.ENTITIES: AuthorizedEntityRow,
}


@dataclass(frozen=True, slots=True)
class AefReport:
    """One AEF submission: Table 1 plus the rows of Tables 2-5."""

    submission: SubmissionRow
    authorizations: tuple[AuthorizationRow, ...] = ()
    actions: tuple[ActionRow, ...] = ()
    holdings: tuple[HoldingRow, ...] = ()
    entities: tuple[AuthorizedEntityRow, ...] = ()

    def rows(self, table: AefTable) -> tuple[AefRow, ...]:
        """The rows of ``table`` (Table 1 has exactly one)."""
        match table:
            case AefTable.SUBMISSION:
                return (self.submission,)
            case AefTable.AUTHORIZATIONS:
                return self.authorizations
            case AefTable.ACTIONS:
                return self.actions
            case AefTable.HOLDINGS:
                return self.holdings
            case AefTable.ENTITIES:
                return self.entities
