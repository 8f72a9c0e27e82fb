"""The Party's scan: replaying the entries about one Party, up to a tree size, into a
:class:`PartyScan`, one handler per entry kind.

The entries are found by the entry index (:mod:`ledger.registry.entry_tags`), so a report costs
the Party's entries and the reference data, not the whole log: the reference entries (Parties,
registries, approaches, authorizations, entities, accounts) below the tree size name the
Party's accounts and authorizations, and the scan reads those entries with every entry
indexed under the Party, one of its accounts or one of its authorizations, in ``seq`` order.
Every handler below reads only such entries, and every entry that changes a block held in one
of the Party's accounts names that account, so the scan sees what a replay of the whole log
would (the equivalence is tested on generated histories).

Every entry read is applied to an in-memory projection
(:func:`ledger.registry.projection.apply_entry`) after its handler ran, so a handler sees the
state just before its entry: the authorization version, account and entity it names. Handlers
collect

- the Party's inputs: emissions, the latest target of each NDC period, its latest choice of the
  accounting settings left to it, and its AEF submissions;
- first transfers (``itmo.first_transfer``) of the first transferring Party, booked to the
  vintage (2/CMA.3 annex para 8(a)); uses towards the NDC (``itmo.use``) booked to the calendar
  year of use (para 8(b)); MOs authorized for OIMP (``units.authorized``, and ``mo.issued``
  shares issued under an OIMP authorization) for para 23(d);
- AEF Table 3 rows, one per block and action in the Party's registries dated in the reported
  year. ``Using/cancelling participating Party ID`` is given on OIMP uses and cancellations, not
  on NDC uses (annex footnote).
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal

from ledger.accounting import aef
from ledger.accounting.adjustments import FirstTransferFact, OimpAuthorizationFact, UseFact
from ledger.accounting.btr.regular_information import ContributionFact, ContributionKind
from ledger.accounting.reporting.entries import (
    acted_blocks,
    payload_int,
    payload_opt_str,
    payload_str,
)
from ledger.accounting.reporting.inputs import (
    ADAPTATION_CONTRIBUTION_RECORDED,
    AEF_SUBMITTED,
    EMISSIONS_RECORDED,
    NDC_TARGET_RECORDED,
    POLICY_CHOSEN,
    read_emissions,
    read_policy_choice,
    read_submission,
    read_target,
)
from ledger.accounting.reporting.scan import PartyScan
from ledger.errors import PartyNotFound, ProjectionMismatch
from ledger.log.chain import Entry
from ledger.ports import UnitOfWork
from ledger.registry import services
from ledger.registry.dating import action_date
from ledger.registry.entry_tags import (
    REFERENCE,
    account_tag,
    authorization_tag,
    entry_tags,
    party_tag,
)
from ledger.registry.model import AccountType, Authorization, Metric, UnitBlock
from ledger.registry.projection import InMemoryProjection, apply_entry


def scan_party(
    uow: UnitOfWork, party: str, end: int, reported_year: int | None = None
) -> PartyScan:
    """The Party's scan of entries ``0 .. end-1``, collecting the AEF actions of
    ``reported_year`` if given; :class:`~ledger.errors.PartyNotFound` if the Party is not
    registered by then."""
    return _scanned(party, reported_year, party_entries(uow, party, end), end)


def scan_party_entries(
    source: Iterable[Entry], party: str, end: int, reported_year: int | None = None
) -> PartyScan:
    """:func:`scan_party` over given entries in ``seq`` order (say, the entries another
    instance served for the Party's reports, each verified against its checkpoint of tree size
    ``end``)."""
    return _scanned(party, reported_year, source, end)


def _scanned(party: str, reported_year: int | None, source: Iterable[Entry], end: int) -> PartyScan:
    scan = PartyScan(party, reported_year)
    for entry in source:
        read(scan, entry)
    _convert_late(scan)
    scan.end = end
    if scan.state.get_party(party) is None:
        raise PartyNotFound(f"Party {party} is not registered", party=party)
    return scan


def party_entries(uow: UnitOfWork, party: str, end: int) -> Iterable[Entry]:
    """The entries below ``end`` that the Party's reports read, in ``seq`` order: the reference
    entries, and those indexed under the Party, its accounts or its authorizations."""
    reference = indexed_entries(uow, (REFERENCE,), end)
    known = InMemoryProjection()
    for entry in reference:
        apply_entry(known, entry.seq, entry.kind, entry.payload)
    own = indexed_entries(uow, party_tags(known, party), end)
    return heapq.merge(reference, own, key=lambda entry: entry.seq)


def party_tags(known: InMemoryProjection, party: str) -> set[str]:
    """The index tags of the Party's own entries given the reference data in ``known``: the
    Party, the accounts of its registries and its authorizations."""
    registries = {r.registry_id for r in known.registries() if r.party == party}
    tags = {party_tag(party)}
    tags |= {account_tag(a.account_id) for a in known.accounts() if a.registry_id in registries}
    tags |= {
        authorization_tag(a.authorization_id) for a in known.authorizations() if a.party == party
    }
    return tags


def indexed_entries(uow: UnitOfWork, tags: Collection[str], end: int) -> list[Entry]:
    """The entries below ``end`` indexed under any of ``tags``, in ``seq`` order. An entry that
    does not carry one of them was indexed outside the service: :class:`ProjectionMismatch`."""
    seqs = uow.projection.tagged_seqs(tags, end)
    found = [Entry.from_canonical(body) for body in uow.log.read_seqs(seqs)]
    for seq, entry in zip(seqs, found, strict=False):
        if entry.seq != seq or not set(tags).intersection(entry_tags(entry.kind, entry.payload)):
            raise ProjectionMismatch(
                f"the entry index lists entry {seq} under {sorted(tags)[:3]}, which the entry "
                "does not name: the index was changed outside the service (`a6ledger verify-db` "
                "names the rows that differ)",
                table="entry_tag",
                seq=seq,
            )
    if len(found) != len(seqs):
        raise ProjectionMismatch(
            f"the entry index lists {len(seqs)} entries below {end}, the log holds {len(found)} "
            "of them",
            table="entry_tag",
        )
    return found


def read(scan: PartyScan, entry: Entry) -> None:
    """Read one entry: its handler, then the projection (and the year-end projection, if the
    entry belongs to it)."""
    handler = _HANDLERS.get(entry.kind)
    if handler is not None:
        handler(scan, entry)
    apply_entry(scan.state, entry.seq, entry.kind, entry.payload)
    if scan.reported_year is not None and (
        "blocks" not in entry.payload or action_date(entry) <= date(scan.reported_year, 12, 31)
    ):
        apply_entry(scan.year_end, entry.seq, entry.kind, entry.payload)


# --- inputs


def _on_emissions(scan: PartyScan, entry: Entry) -> None:
    if payload_str(entry, "party") == scan.party:
        scan.facts.emissions.append(read_emissions(entry))
        unit = payload_opt_str(entry, "metric_unit")
        if unit is not None:
            scan.facts.emission_units[entry.seq] = unit


def _on_target(scan: PartyScan, entry: Entry) -> None:
    """A target names its NDC period; one recorded before successive periods existed belongs
    to the Party's one period at the time."""
    if payload_str(entry, "party") != scan.party:
        return
    target = read_target(entry)
    period_start = target.period_start
    if period_start is None:
        party = scan.state.get_party(scan.party)
        if party is None or not party.ndc_periods:
            return
        period_start = party.declarations[0].period_start
    scan.facts.targets[period_start] = target


def _on_policy_choice(scan: PartyScan, entry: Entry) -> None:
    if payload_str(entry, "party") == scan.party:
        scan.facts.policy_choice = read_policy_choice(entry)


def _on_submission(scan: PartyScan, entry: Entry) -> None:
    if payload_str(entry, "party") == scan.party:
        scan.facts.submissions.append(read_submission(entry))


# --- registry actions: facts of the Party's accounting, and its AEF Table 3 rows


def _on_issuance(scan: PartyScan, entry: Entry) -> None:
    """Shares issued under an authorization: the units are authorized at issuance."""
    authorized = [
        b
        for b in acted_blocks(entry)
        if b.authorization_id is not None and b.attributes.first_transferring_party == scan.party
    ]
    _authorized(scan, entry, authorized, version=None)


def _on_units_authorized(scan: PartyScan, entry: Entry) -> None:
    authorization = scan.authorization(
        payload_str(entry, "authorization_id"), payload_int(entry, "version")
    )
    if authorization.party == scan.party:
        _authorized(scan, entry, acted_blocks(entry), version=authorization.version)


def _authorized(
    scan: PartyScan, entry: Entry, blocks: Sequence[UnitBlock], version: int | None
) -> None:
    groups: dict[tuple[str, str, int], list[UnitBlock]] = defaultdict(list)
    names: dict[tuple[str, str, int], tuple[str, ...]] = {}
    for block in blocks:
        assert block.authorization_id is not None
        authorization = scan.authorization(block.authorization_id, version)
        if scan.actions.covers(entry):
            scan.actions.add(entry, block, aef.ActionType.AUTHORIZATION)
        if not authorization.purposes.covers_oimp:
            continue
        a = block.attributes
        key = (a.ca_id, a.sector, a.vintage)
        groups[key].append(block)
        names[key] = tuple(scan.entity_name(e) for e in authorization.authorized_entities)
    for (ca_id, sector, vintage), members in groups.items():
        scan.facts.oimp_authorizations.append(
            OimpAuthorizationFact(
                seq=entry.seq,
                year=action_date(entry).year,
                quantity=sum(b.quantity for b in members),
                entities=names[(ca_id, sector, vintage)],
                cooperative_approach=ca_id,
                sector=sector,
                transferring_party=scan.party,
                vintage=vintage,
            )
        )


def _contributed(
    scan: PartyScan, entry: Entry, blocks: Iterable[UnitBlock], kind: ContributionKind
) -> None:
    """ITMOs the Party gave to the Adaptation Fund or cancelled to deliver OMGE, per approach
    (regular information, 2/CMA.3 annex paras 38 and 40)."""
    by_approach: dict[str, int] = defaultdict(int)
    for block in blocks:
        by_approach[block.attributes.ca_id] += block.quantity
    for ca_id, quantity in sorted(by_approach.items()):
        scan.facts.contributions.append(
            ContributionFact(entry.seq, action_date(entry).year, ca_id, kind, quantity=quantity)
        )


def _on_adaptation_contribution(scan: PartyScan, entry: Entry) -> None:
    if payload_str(entry, "party") != scan.party:
        return
    scan.facts.contributions.append(
        ContributionFact(
            entry.seq,
            action_date(entry).year,
            payload_str(entry, "ca_id"),
            ContributionKind.ADAPTATION_FUND_MONETARY,
            amount=Decimal(payload_str(entry, "amount")),
            currency=payload_str(entry, "currency"),
        )
    )


def _on_first_transfer(scan: PartyScan, entry: Entry) -> None:
    subtype = payload_str(entry, "subtype")
    if subtype == services.ADAPTATION_FUND_SUBTYPE:
        _contributed(
            scan,
            entry,
            [b for b in acted_blocks(entry) if b.attributes.first_transferring_party == scan.party],
            ContributionKind.ADAPTATION_FUND_ITMOS,
        )
    acquiring = payload_opt_str(entry, "acquiring_party")
    oimp_definition = subtype in {d.value for d in aef.FirstTransferDefinition}
    groups: dict[tuple[int, str, str, str], int] = defaultdict(int)
    blocks_of: dict[tuple[int, str, str, str], list[UnitBlock]] = defaultdict(list)
    purposes: dict[tuple[int, str, str, str], Authorization] = {}
    for block in acted_blocks(entry):
        a = block.attributes
        if a.first_transferring_party != scan.party:
            continue
        authorization = scan.authorization(
            block.authorization_id or "", block.authorization_version
        )
        key = (a.vintage, authorization.purposes.value, a.ca_id, a.sector)
        groups[key] += _counted(scan, block, a.vintage)
        blocks_of[key].append(block)
        purposes[key] = authorization
        if scan.actions.covers(entry):
            scan.actions.add(
                entry,
                block,
                aef.ActionType.FIRST_TRANSFER,
                subtype=subtype,
                acquiring=acquiring,
                oimp_purpose=authorization.oimp_authorized if oimp_definition else None,
            )
    for key, quantity in groups.items():
        vintage, _, ca_id, sector = key
        if any(_awaits_conversion(scan, b, vintage) for b in blocks_of[key]):
            scan.unconverted[len(scan.facts.first_transfers)] = blocks_of[key]
        scan.facts.first_transfers.append(
            FirstTransferFact(
                seq=entry.seq,
                vintage=vintage,
                quantity=quantity,
                purpose=purposes[key].purposes,
                cooperative_approach=ca_id,
                sector=sector,
                transferring_party=scan.party,
                using_party=acquiring,
                transfer_year=action_date(entry).year,
            )
        )


def _on_transfer(scan: PartyScan, entry: Entry) -> None:
    if scan.account_party(payload_str(entry, "from_account")) != scan.party:
        return
    destination = scan.state.get_account(payload_str(entry, "to_account"))
    to_fund = destination is not None and (destination.account_type is AccountType.ADAPTATION_FUND)
    if to_fund:
        _contributed(scan, entry, acted_blocks(entry), ContributionKind.ADAPTATION_FUND_ITMOS)
    if not scan.actions.covers(entry):
        return
    if not (entry.payload.get("international") is True or to_fund):
        return  # a move between the Party's own accounts is no AEF action
    for block in acted_blocks(entry):
        scan.actions.add(
            entry,
            block,
            aef.ActionType.TRANSFER,
            subtype=services.ADAPTATION_FUND_SUBTYPE if to_fund else None,
            acquiring=payload_opt_str(entry, "acquiring_party"),
        )


def _on_acquisition(scan: PartyScan, entry: Entry) -> None:
    destination = scan.state.get_account(payload_str(entry, "to_account"))
    if destination is not None and destination.account_type is AccountType.ADAPTATION_FUND:
        return  # the Adaptation Fund acquires, not the Party hosting its account (Table 4 too)
    if scan.account_party(payload_str(entry, "to_account")) != scan.party:
        return
    transferring = payload_str(entry, "transferring_party")
    for block in acted_blocks(entry):
        scan.acquired_from[block.block_id] = transferring
    if scan.actions.covers(entry):
        for block in acted_blocks(entry):
            scan.actions.add(
                entry,
                block,
                aef.ActionType.ACQUISITION,
                transferring=payload_str(entry, "transferring_party"),
            )


def _on_use(scan: PartyScan, entry: Entry) -> None:
    if payload_str(entry, "using_party") != scan.party:
        return
    use_year = payload_int(entry, "use_year")
    groups: dict[tuple[int, str, str, str], int] = defaultdict(int)
    for block in acted_blocks(entry):
        a = block.attributes
        groups[(a.vintage, a.ca_id, a.sector, _acquired_from(scan, block))] += _counted(
            scan, block, use_year
        )
        if scan.actions.covers(entry):
            scan.actions.add(entry, block, aef.ActionType.USE, ndc_use_year=use_year)
    for (vintage, ca_id, sector, transferring), quantity in groups.items():
        scan.facts.uses.append(
            UseFact(
                seq=entry.seq,
                use_year=use_year,
                vintage=vintage,
                quantity=quantity,
                cooperative_approach=ca_id,
                sector=sector,
                transferring_party=transferring,
                using_party=scan.party,
            )
        )


def _on_oimp_use(scan: PartyScan, entry: Entry) -> None:
    if not scan.actions.covers(entry) or payload_str(entry, "using_party") != scan.party:
        return
    entity = scan.entity_identification(payload_opt_str(entry, "entity_id"))
    for block in acted_blocks(entry):
        scan.actions.add(
            entry,
            block,
            aef.ActionType.USE,
            oimp_purpose=payload_str(entry, "oimp_purpose"),
            using_party=scan.party,
            using_entity=entity,
        )


def _on_cancellation(scan: PartyScan, entry: Entry) -> None:
    if payload_str(entry, "cancelling_party") != scan.party:
        return
    subtype = payload_str(entry, "subtype")
    if subtype in {k.value for k in ContributionKind}:
        _contributed(scan, entry, acted_blocks(entry), ContributionKind(subtype))
    if not scan.actions.covers(entry):
        return
    for block in acted_blocks(entry):
        scan.actions.add(
            entry,
            block,
            aef.ActionType.CANCELLATION,
            subtype=payload_str(entry, "subtype"),
            using_party=scan.party,
        )


def _acquired_from(scan: PartyScan, block: UnitBlock) -> str:
    """The Party the scan's Party acquired the units from: the transferring Party of the
    acquisition of the block or of the block it was split from; the first transferring Party
    if the ledger saw no acquisition (2/CMA.3 annex para 23(j): "transferring Party")."""
    found: UnitBlock | None = block
    while found is not None:
        party = scan.acquired_from.get(found.block_id)
        if party is not None:
            return party
        found = None if found.parent_id is None else scan.state.get_block(found.parent_id)
    return block.attributes.first_transferring_party


def _awaits_conversion(scan: PartyScan, block: UnitBlock, year: int) -> bool:
    """Non-GHG units counted against a t CO2 eq NDC with no conversion recorded yet."""
    a = block.attributes
    party = scan.state.get_party(scan.party)
    ndc = None if party is None else party.ndc_covering(year)
    return (
        a.metric is Metric.NON_GHG
        and ndc is not None
        and ndc.metric is Metric.GHG
        and not any(
            c.covers(a.ca_id, a.non_ghg_metric, a.vintage) for c in scan.actions.conversions
        )
    )


def _convert_late(scan: PartyScan) -> None:
    """First transfers of non-GHG units against a t CO2 eq NDC counted before their conversion
    was recorded: at the end of the scan, count them with the conversion recorded since (in
    whole t CO2 eq rounded down, as the AEF does); without one they stay in units."""
    facts = scan.facts.first_transfers
    for index, blocks in scan.unconverted.items():
        fact = facts[index]
        facts[index] = replace(fact, quantity=sum(_counted(scan, b, fact.vintage) for b in blocks))


def _counted(scan: PartyScan, block: UnitBlock, year: int) -> int:
    """The block's quantity in the metric of the Party's NDC covering ``year``: its units, or,
    for non-GHG units counted against a t CO2 eq NDC, their recorded conversion in whole
    t CO2 eq rounded down, as the AEF reports them (units, if no conversion is recorded: a
    first transfer needs none, and a use is refused without one)."""
    a = block.attributes
    party = scan.state.get_party(scan.party)
    ndc = None if party is None else party.ndc_covering(year)
    if a.metric is not Metric.NON_GHG or ndc is None or ndc.metric is not Metric.GHG:
        return block.quantity
    for conversion in scan.actions.conversions:
        if conversion.covers(a.ca_id, a.non_ghg_metric, a.vintage):
            return math.floor(block.quantity * conversion.ratio)
    return block.quantity


def _on_conversion(scan: PartyScan, entry: Entry) -> None:
    """A conversion of a non-GHG metric to t CO2 eq: the AEF converts with it."""
    scan.actions.conversions.append(services.read_conversion(entry))


_HANDLERS: Mapping[str, Callable[[PartyScan, Entry], None]] = {
    EMISSIONS_RECORDED: _on_emissions,
    NDC_TARGET_RECORDED: _on_target,
    POLICY_CHOSEN: _on_policy_choice,
    AEF_SUBMITTED: _on_submission,
    "mo.issued": _on_issuance,
    "units.authorized": _on_units_authorized,
    "itmo.first_transfer": _on_first_transfer,
    "itmo.transfer": _on_transfer,
    "itmo.acquisition": _on_acquisition,
    "itmo.use": _on_use,
    "itmo.oimp_use": _on_oimp_use,
    "itmo.cancellation": _on_cancellation,
    services.CONVERSION_RECORDED: _on_conversion,
    ADAPTATION_CONTRIBUTION_RECORDED: _on_adaptation_contribution,
}
