"""A small JCM world for the registry tests (on a database or on the in-memory fakes), builders of
the actions on it, and readers of what the entries say.

Parties JPN, THA, MNG (hosted registries JPN01, THA01, MNG01) and CHE (external registry CHE01);
cooperative approaches CA0001 and CA0003 (Japan-Thailand) and CA0002 (Japan-Mongolia). Every
hosted registry has a holding account ``-GOV`` and the terminal accounts ``-NDC``, ``-OIMP``,
``-CANCEL`` and ``-OMGE``; Thailand also has ``THA01-PP`` (project participant) and ``THA01-AF``
(Adaptation Fund). Every account holds GHG units only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from ledger.log.chain import Entry
from ledger.ports import UnitOfWork
from ledger.registry import services
from ledger.registry.codec import from_json
from ledger.registry.model import (
    Account,
    AccountType,
    Authorization,
    AuthorizedEntity,
    CaMethod,
    CooperativeApproach,
    Metric,
    MitigationType,
    NdcDeclaration,
    NdcType,
    Party,
    Purpose,
    Registry,
    SerialRange,
    UnitAttributes,
    UnitBlock,
    UnitSelection,
)
from ledger.registry.projection import BlockKey, block_key

ORIGIN = "a6ledger.test/registry"
ADMIN = "test:admin"
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)

NDC_2021_2030 = NdcDeclaration(
    NdcType.SINGLE_YEAR, Metric.GHG, 2021, 2030, CaMethod.AVERAGING, target_year=2030
)
MULTI_YEAR_2021_2030 = NdcDeclaration(
    NdcType.MULTI_YEAR, Metric.GHG, 2021, 2030, CaMethod.ANNUAL, target_year=2030
)

TERMINAL_SUFFIXES = (
    ("NDC", AccountType.NDC_USE),
    ("OIMP", AccountType.OIMP_USE),
    ("CANCEL", AccountType.CANCELLATION),
    ("OMGE", AccountType.VOLUNTARY_CANCELLATION),
)


def at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def build_world(uow: UnitOfWork) -> None:
    for code, name, ndc in (
        ("JPN", "Japan", NDC_2021_2030),
        ("THA", "Thailand", NDC_2021_2030),
        ("MNG", "Mongolia", MULTI_YEAR_2021_2030),
        ("CHE", "Switzerland", None),
    ):
        services.register_party(uow, Party.with_ndc(code, name, ndc), ADMIN)
    for registry_id, hosted in (("JPN01", True), ("THA01", True), ("MNG01", True)):
        services.register_registry(
            uow, Registry(registry_id, registry_id[:3], f"{registry_id} registry", hosted), ADMIN
        )
    services.register_registry(uow, Registry("CHE01", "CHE", "Swiss registry", False), ADMIN)
    for ca_id, name, parties in (
        ("CA0001", "JCM Japan-Thailand", ("JPN", "THA")),
        ("CA0002", "JCM Japan-Mongolia", ("JPN", "MNG")),
        ("CA0003", "JCM Japan-Thailand (second approach)", ("JPN", "THA")),
    ):
        services.register_cooperative_approach(
            uow, CooperativeApproach(ca_id, name, parties), ADMIN
        )
    for registry_id in ("JPN01", "THA01", "MNG01"):
        accounts = [("GOV", AccountType.HOLDING), *TERMINAL_SUFFIXES]
        for suffix, kind in accounts:
            account = Account(f"{registry_id}-{suffix}", registry_id, kind, suffix, Metric.GHG)
            services.open_account(uow, account, ADMIN)
    for account in (
        Account("THA01-PP", "THA01", AccountType.HOLDING, "Project participant", Metric.GHG),
        Account("THA01-AF", "THA01", AccountType.ADAPTATION_FUND, "Adaptation Fund", Metric.GHG),
    ):
        services.open_account(uow, account, ADMIN)


def attributes(
    registry_id: str = "THA01",
    ca_id: str = "CA0001",
    vintage: int = 2021,
    *,
    sector: str = "Energy generation",
    activity_type: str = "Solar",
) -> UnitAttributes:
    return UnitAttributes(
        ca_id=ca_id,
        registry_id=registry_id,
        first_transferring_party=registry_id[:3],
        vintage=vintage,
        metric=Metric.GHG,
        gwp="AR5",
        mitigation_type=MitigationType.EMISSION_REDUCTIONS,
        sector=sector,
        activity_type=activity_type,
        underlying_registry="JCM",
    )


def authorization(
    authorization_id: str,
    party: str = "THA",
    ca_id: str = "CA0001",
    purposes: Purpose = Purpose.NDC,
    **changes: Any,
) -> Authorization:
    draft = Authorization(
        authorization_id=authorization_id,
        version=0,
        party=party,
        ca_id=ca_id,
        authorized_on=date(2025, 10, 30),
        purposes=purposes,
        metric=Metric.GHG,
        gwp="AR5",
        sectors=("Energy generation",),
        activity_types=("Solar",),
        vintage_from=2021,
        vintage_to=2030,
    )
    return replace(draft, **changes)


def entity(entity_id: str, ca_id: str = "CA0002", country: str = "MNG") -> AuthorizedEntity:
    return AuthorizedEntity(
        entity_id, f"Entity {entity_id}", country, f"ID-{entity_id}", ca_id, date(2026, 1, 15)
    )


def issuance(
    *shares: tuple[str, int, str | None],
    registry_id: str = "THA01",
    ca_id: str = "CA0001",
    vintage: int = 2021,
) -> services.Issuance:
    return services.Issuance(
        registry_id=registry_id,
        attributes=attributes(registry_id, ca_id, vintage),
        shares=tuple(services.IssuanceShare(a, q, auth) for a, q, auth in shares),
        decision_reference="JC decision",
    )


def quantity(n: int, **filters: Any) -> UnitSelection:
    return UnitSelection(quantity=n, **filters)


def serials(
    *ranges: tuple[int, int],
    registry_id: str = "THA01",
    ca_id: str = "CA0001",
    vintage: int = 2021,
) -> UnitSelection:
    return UnitSelection(
        ranges=tuple(SerialRange(f, last) for f, last in ranges),
        ca_id=ca_id,
        vintage=vintage,
        first_transferring_party=registry_id[:3],
        originating_registry=registry_id,
    )


def move(source: str, destination: str, selection: UnitSelection) -> services.TransferOrder:
    return services.TransferOrder(source, destination, selection)


def use(
    source: str, destination: str, selection: UnitSelection, use_year: int = 2025
) -> services.UseOrder:
    return services.UseOrder(source, destination, selection, use_year=use_year)


# --- reading entries -----------------------------------------------------------------------------


def acted_blocks(entry: Entry) -> list[UnitBlock]:
    """The blocks an entry acted on, as recorded in its payload."""
    acted = set(entry.payload.get("acted", ()))  # type: ignore[arg-type]
    raw_blocks: Iterable[Any] = entry.payload.get("blocks", ())  # type: ignore[assignment]
    return [b for b in (from_json(UnitBlock, raw) for raw in raw_blocks) if b.block_id in acted]


def first_transfer_counts(all_entries: Iterable[Entry]) -> dict[tuple[BlockKey, int], int]:
    """How many ``itmo.first_transfer`` entries cover each serial."""
    counts: dict[tuple[BlockKey, int], int] = {}
    for entry in all_entries:
        if entry.kind != "itmo.first_transfer":
            continue
        for block in acted_blocks(entry):
            for serial in range(block.first, block.last + 1):
                counts[(block_key(block), serial)] = counts.get((block_key(block), serial), 0) + 1
    return counts
