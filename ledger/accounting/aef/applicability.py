"""Which conditional AEF columns a row needs, allows or must leave blank.

The rules paraphrase the annex footnotes and the field specification's applicability rules
(``aef-v2.json`` ``requirement.condition``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto
from typing import Final

from ledger.accounting.aef.columns import ColumnSpec
from ledger.accounting.aef.nomenclature import ActionSubtype, ActionType, Requirement
from ledger.accounting.aef.rows import ActionRow, AefRow, AuthorizationRow, HoldingRow
from ledger.registry.model import Metric


class Need(Enum):
    REQUIRED = auto()
    ALLOWED = auto()
    NOT_APPLICABLE = auto()
    CARP = auto()


@dataclass(frozen=True, slots=True)
class Applicability:
    need: Need
    reason: str = ""


_ALLOWED = Applicability(Need.ALLOWED)
_REQUIRED = Applicability(Need.REQUIRED)
_USE_OR_CANCEL: Final = frozenset(
    {
        ActionType.USE,
        ActionType.CANCELLATION,
        ActionType.VOLUNTARY_CANCELLATION,
        ActionType.FIRST_TRANSFER,
    }
)
_ADAPTATION_FUND: Final = frozenset(
    {
        ActionSubtype.MANDATORY_TRANSFER_TO_ADAPTATION_FUND,
        ActionSubtype.VOLUNTARY_TRANSFER_TO_ADAPTATION_FUND,
    }
)
OIMP_FIRST_TRANSFER: Final = frozenset(
    {ActionSubtype.AUTHORIZATION, ActionSubtype.ISSUANCE, ActionSubtype.USE_OR_CANCELLATION}
)
"""First-transfer subtypes that are the OIMP definitions of 2/CMA.3 annex para 2(b)."""


def applicability(row: AefRow, column: ColumnSpec) -> Applicability:
    """Whether ``column`` is required, allowed or not applicable for ``row``.

    The rules paraphrase the annex footnotes and the field specification's applicability rules
    (``aef-v2.json`` ``requirement.condition``).
    """
    if column.requirement is Requirement.CARP_POPULATED:
        return Applicability(Need.CARP, "populated by the CARP; leave it empty")
    rule: Applicability | None = None
    if isinstance(row, AuthorizationRow):
        rule = _authorization_rule(row, column.field_name)
    elif isinstance(row, ActionRow | HoldingRow):
        rule = _block_rule(row, column.field_name)
        if rule is None and isinstance(row, ActionRow):
            rule = _action_rule(row, column.field_name)
    if rule is not None:
        return rule
    return _REQUIRED if column.requirement is Requirement.REQUIRED else _ALLOWED


def _non_ghg_rule(metric: Metric) -> Applicability:
    if metric is Metric.NON_GHG:
        return Applicability(Need.REQUIRED, "the metric is non-GHG")
    return Applicability(Need.NOT_APPLICABLE, "applies only when the metric is non-GHG")


def _authorization_rule(row: AuthorizationRow, name: str) -> Applicability | None:
    if name == "non_ghg_metric":
        return _non_ghg_rule(row.metric)
    if name in ("oimp_authorized", "first_transfer_definition"):
        if row.purposes.covers_oimp:
            return Applicability(Need.REQUIRED, "the purposes include OIMP, IMP or OP")
        return Applicability(
            Need.NOT_APPLICABLE, "applies only when the purposes include OIMP, IMP or OP"
        )
    return None


def _block_rule(row: ActionRow | HoldingRow, name: str) -> Applicability | None:
    if name in ("non_ghg_metric", "quantity_non_ghg"):
        return _non_ghg_rule(row.metric)
    if row.underlying_registry_id is None:
        if name == "underlying_registry_id":
            # Footnote: "NA" if the cooperative approach has no underlying unit registry.
            return Applicability(Need.NOT_APPLICABLE, "no underlying unit registry")
        if name in ("first_unit_id", "last_unit_id"):
            return Applicability(
                Need.NOT_APPLICABLE, "applies only when an underlying unit registry ID is given"
            )
    return None


def _action_rule(row: ActionRow, name: str) -> Applicability | None:
    kind = row.action_type
    match name:
        case "transferring_party_id":
            if kind is ActionType.ACQUISITION:
                return Applicability(Need.REQUIRED, "on Acquisition rows")
            return Applicability(Need.NOT_APPLICABLE, "applies only to Acquisition rows")
        case "acquiring_party_id":
            if kind is ActionType.TRANSFER and row.action_subtype not in _ADAPTATION_FUND:
                return Applicability(Need.REQUIRED, "on Transfer rows")
            if (
                kind is ActionType.FIRST_TRANSFER
                and row.action_subtype is ActionSubtype.FIRST_TRANSFER_TO_ANOTHER_PARTY
            ):
                return Applicability(Need.REQUIRED, "on a First transfer to another Party")
            if kind in (ActionType.TRANSFER, ActionType.FIRST_TRANSFER):
                return _ALLOWED
            return Applicability(
                Need.NOT_APPLICABLE, "applies only to First transfer and Transfer rows"
            )
        case "oimp_purpose":
            if kind is ActionType.USE and row.ndc_use_year is not None:
                return Applicability(
                    Need.NOT_APPLICABLE,
                    "a Use row with a calendar year is a use towards the Party's NDC",
                )
            if kind is ActionType.FIRST_TRANSFER and row.action_subtype in OIMP_FIRST_TRANSFER:
                return Applicability(
                    Need.REQUIRED,
                    "on an OIMP first transfer (subtype Authorization, Issuance or "
                    "Use or cancellation)",
                )
            if kind in _USE_OR_CANCEL:
                return _ALLOWED
            return Applicability(
                Need.NOT_APPLICABLE,
                "applies only to Use, Cancellation and OIMP First transfer rows",
            )
        case "using_party_id" | "using_entity_id":
            if kind in _USE_OR_CANCEL:
                return _ALLOWED
            return Applicability(
                Need.NOT_APPLICABLE, "applies only to Use, Cancellation and First transfer rows"
            )
        case "ndc_use_year":
            if kind is ActionType.USE and row.oimp_purpose is None:
                return Applicability(
                    Need.REQUIRED,
                    "on a Use towards the Party's NDC; for a use towards OIMP give the "
                    "OIMP purpose instead",
                )
            if kind is ActionType.USE:
                return Applicability(
                    Need.NOT_APPLICABLE,
                    "a Use row with an OIMP purpose is not a use towards the Party's NDC",
                )
            return Applicability(
                Need.NOT_APPLICABLE, "applies only to Use rows towards the Party's NDC"
            )
    return None
