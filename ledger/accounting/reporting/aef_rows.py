"""Ledger records as AEF rows: unit blocks as Table 4 holdings, authorizations as Table 2 rows,
entities as Table 5 rows, and :class:`ActionTable`, the Table 3 rows a scan of the log collects.

A value outside a nomenclature list is passed through unchanged, so that
:func:`ledger.accounting.aef.validate_report` names its table, row and column.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TypeVar, cast

from ledger.accounting import aef
from ledger.accounting.reporting.entries import payload_opt_int, payload_opt_str
from ledger.log.chain import Entry
from ledger.registry.dating import RESTATES, action_date
from ledger.registry.model import (
    Authorization,
    AuthorizedEntity,
    Metric,
    NonGhgConversion,
    UnitBlock,
)
from ledger.registry.projection import InMemoryProjection

_E = TypeVar("_E", bound=StrEnum)


def listed(enum: type[_E], value: str) -> _E:
    """``value`` as a member of a nomenclature list; a value outside the list is passed through
    unchanged so that :func:`ledger.accounting.aef.validate_report` names its table, row and
    column."""
    try:
        return enum(value)
    except ValueError:
        return cast(_E, value)


def _tonnes(
    ca_id: str,
    non_ghg_metric: str | None,
    vintage: int,
    units: int,
    conversions: Sequence[NonGhgConversion],
) -> int | None:
    """``units`` of a non-GHG metric in whole t CO2 eq, rounded down, by the recorded
    conversion of their approach, metric and vintage; ``None`` without one."""
    for conversion in conversions:
        if conversion.covers(ca_id, non_ghg_metric, vintage):
            return math.floor(units * conversion.ratio)
    return None


def converted_action(row: aef.ActionRow, conversions: Sequence[NonGhgConversion]) -> aef.ActionRow:
    """A Table 3 row of non-GHG units with its t CO2 eq quantity from the conversions recorded
    by the end of the scan (a conversion may be recorded after the action)."""
    if row.metric is not aef.Metric.NON_GHG or row.quantity_non_ghg is None:
        return row
    tonnes = _tonnes(
        row.cooperative_approach_id,
        row.non_ghg_metric,
        row.vintage,
        row.quantity_non_ghg,
        conversions,
    )
    return replace(row, quantity=tonnes)


def holding_row(block: UnitBlock, conversions: Sequence[NonGhgConversion] = ()) -> aef.HoldingRow:
    """The block as a Table 4 row (whose columns Table 3 rows share). A non-GHG block gives its
    quantity in its metric and, converted by the recorded conversion of its approach, metric
    and vintage, in whole t CO2 eq rounded down (never more mitigation than converted); without
    a recorded conversion its t CO2 eq quantity is left blank (a finding of the AEF checks)."""
    a = block.attributes
    quantity: int | None = block.quantity
    quantity_non_ghg: int | None = None
    if a.metric is Metric.NON_GHG:
        quantity_non_ghg = block.quantity
        quantity = _tonnes(a.ca_id, a.non_ghg_metric, a.vintage, block.quantity, conversions)
    return aef.HoldingRow(
        cooperative_approach_id=a.ca_id,
        authorization_id=block.authorization_id or "",
        first_transferring_party_id=a.first_transferring_party,
        registry_id=a.registry_id,
        first_id=block.first,
        last_id=block.last,
        underlying_registry_id=(
            None
            if a.underlying_registry is None
            else listed(aef.UnderlyingRegistry, a.underlying_registry)
        ),
        first_unit_id=block.underlying_first if a.underlying_registry is not None else None,
        last_unit_id=block.underlying_last if a.underlying_registry is not None else None,
        metric=aef.Metric(a.metric.value),
        gwp_values=a.gwp or None,
        non_ghg_metric=a.non_ghg_metric if a.metric is Metric.NON_GHG else None,
        quantity=quantity,
        quantity_non_ghg=quantity_non_ghg,
        mitigation_type=aef.MitigationType(a.mitigation_type.value),
        vintage=a.vintage,
    )


def _timeframe(authorization: Authorization) -> str:
    text = f"Vintages {authorization.vintage_from}-{authorization.vintage_to}"
    if authorization.valid_until is not None:
        text += f"; valid until {authorization.valid_until.strftime('%d/%m/%Y')}"
    return text


def authorization_row(
    authorization: Authorization, state: InMemoryProjection
) -> aef.AuthorizationRow:
    """One version of an authorization as a Table 2 row; entities by identification number."""
    a = authorization
    entity_ids = []
    for entity_id in a.authorized_entities:
        entity = state.get_entity(entity_id)
        entity_ids.append(entity_id if entity is None else entity.identification)
    return aef.AuthorizationRow(
        authorization_id=a.authorization_id,
        date_of_authorization=a.authorized_on,
        cooperative_approach_id=a.ca_id,
        authorization_version=a.version,
        authorized_quantity=a.quantity,
        metric=aef.Metric(a.metric.value),
        gwp_values=a.gwp or None,
        non_ghg_metric=a.non_ghg_metric,
        sectors=tuple(listed(aef.Sector, s) for s in a.sectors),
        activity_types=tuple(listed(aef.ActivityType, t) for t in a.activity_types),
        purposes=aef.Purpose(a.purposes.value),
        authorized_party_ids=a.authorized_parties,
        authorized_entity_ids=tuple(entity_ids),
        oimp_authorized=a.oimp_authorized,
        authorized_timeframe=_timeframe(a),
        terms_and_conditions=a.terms,
        first_transfer_definition=(
            None
            if a.first_transfer_definition is None
            else aef.FirstTransferDefinition(a.first_transfer_definition.value)
        ),
        additional_information=_additional_information(a),
    )


def _additional_information(authorization: Authorization) -> str | None:
    """The Party's explanatory text and, on a revoking version, the revocation: Table 2 has no
    column for it (4/CMA.6 para 10 asks for changes to be public)."""
    parts = [authorization.explanatory] if authorization.explanatory else []
    if authorization.revoked_on is not None:
        parts.append(
            f"Revoked on {authorization.revoked_on.strftime('%d/%m/%Y')}: "
            f"{authorization.revocation_reason}"
        )
    return "; ".join(parts) or None


def entity_row(entity: AuthorizedEntity) -> aef.AuthorizedEntityRow:
    """An authorized entity as a Table 5 row."""
    return aef.AuthorizedEntityRow(
        date_of_authorization=entity.authorized_on,
        name=entity.name,
        country_of_incorporation=entity.country,
        identification_number=entity.identification,
        cooperative_approach_id=entity.ca_id,
        conditions=entity.conditions,
        change_and_revocation_conditions=entity.change_conditions,
        additional_information=entity.explanatory,
    )


@dataclass
class ActionTable:
    """AEF Table 3 of one reported year, filled while the log is scanned: one row per block and
    action whose action date (:func:`~ledger.registry.dating.action_date`) lies in the reported
    year, and the entities the actions name (for Table 5). Without a reported year nothing is
    reported."""

    reported_year: int | None
    rows: list[aef.ActionRow] = field(default_factory=list)
    used_entities: set[str] = field(default_factory=set)
    conversions: list[NonGhgConversion] = field(default_factory=list)
    """The conversions of non-GHG metrics to t CO2 eq recorded so far."""

    def covers(self, entry: Entry) -> bool:
        """Whether the entry is an action to report in the AEF being built."""
        return self.reported_year is not None and action_date(entry).year == self.reported_year

    def add(
        self,
        entry: Entry,
        block: UnitBlock,
        action_type: aef.ActionType,
        *,
        subtype: str | None = None,
        transferring: str | None = None,
        acquiring: str | None = None,
        oimp_purpose: str | None = None,
        using_party: str | None = None,
        using_entity: str | None = None,
        ndc_use_year: int | None = None,
    ) -> None:
        """Add the row of one block and action (only ITMO actions: units that are authorized or
        first transferred). The row's additional information names the ledger entry, and says
        so when the action restates a year whose AEF was already submitted."""
        if block.authorization_id is None and not block.first_transferred:
            return
        holding = holding_row(block, self.conversions)
        reference = payload_opt_str(entry, "reference") or payload_opt_str(
            entry, "decision_reference"
        )
        note = f"Ledger entry {entry.seq}" + (f"; reference {reference}" if reference else "")
        restated = payload_opt_int(entry, RESTATES)
        if restated is not None:
            note += f"; recorded after the AEF of {restated} was submitted (restatement)"
        self.rows.append(
            aef.ActionRow(
                action_date=action_date(entry),
                action_type=action_type,
                action_subtype=None if subtype is None else listed(aef.ActionSubtype, subtype),
                cooperative_approach_id=holding.cooperative_approach_id,
                authorization_id=holding.authorization_id,
                first_transferring_party_id=holding.first_transferring_party_id,
                registry_id=holding.registry_id,
                first_id=holding.first_id,
                last_id=holding.last_id,
                underlying_registry_id=holding.underlying_registry_id,
                first_unit_id=holding.first_unit_id,
                last_unit_id=holding.last_unit_id,
                metric=holding.metric,
                gwp_values=holding.gwp_values,
                non_ghg_metric=holding.non_ghg_metric,
                quantity=holding.quantity,
                quantity_non_ghg=holding.quantity_non_ghg,
                mitigation_type=holding.mitigation_type,
                vintage=holding.vintage,
                transferring_party_id=transferring,
                acquiring_party_id=acquiring,
                oimp_purpose=oimp_purpose,
                using_party_id=using_party,
                using_entity_id=using_entity,
                ndc_use_year=ndc_use_year,
                additional_information=note,
            )
        )
