"""A small JCM world for the registry tests, and helpers to act on it and to inspect the ledger.

Parties JPN, THA, MNG (hosted registries JPN01, THA01, MNG01) and CHE (external registry CHE01);
cooperative approaches CA0001 and CA0003 (Japan-Thailand) and CA0002 (Japan-Mongolia). Every
hosted registry has a holding account ``-GOV`` and the terminal accounts ``-NDC``, ``-OIMP``,
``-CANCEL`` and ``-OMGE``; Thailand also has ``THA01-PP`` (project participant) and ``THA01-AF``
(Adaptation Fund).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine

from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.errors import LedgerError
from ledger.log.chain import Entry
from ledger.log.checkpoints import checkpoint_of
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

T = TypeVar("T")

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
        services.register_party(uow, Party(code, name, ndc), ADMIN)
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
            services.open_account(
                uow, Account(f"{registry_id}-{suffix}", registry_id, kind, suffix), ADMIN
            )
    services.open_account(
        uow, Account("THA01-PP", "THA01", AccountType.HOLDING, "Project participant"), ADMIN
    )
    services.open_account(
        uow, Account("THA01-AF", "THA01", AccountType.ADAPTATION_FUND, "Adaptation Fund"), ADMIN
    )


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


# --- running actions -----------------------------------------------------------------------------


def write(engine: Engine, action: Callable[[UnitOfWork], T], *, when: datetime = NOW) -> T:
    """Run ``action`` in a writing unit of work and commit it."""
    with SqlAlchemyUnitOfWork(engine, write=True, clock=at(when)) as uow:
        result = action(uow)
        uow.commit()
    return result


def read(engine: Engine, query: Callable[[UnitOfWork], T]) -> T:
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        return query(uow)


@dataclass(frozen=True)
class Snapshot:
    size: int
    root: bytes
    blocks: tuple[UnitBlock, ...]


def snapshot(engine: Engine) -> Snapshot:
    def take(uow: UnitOfWork) -> Snapshot:
        checkpoint = checkpoint_of(uow.log, ORIGIN)
        return Snapshot(
            checkpoint.size, checkpoint.root_hash, tuple(uow.projection.active_blocks())
        )

    return read(engine, take)


def assert_nothing_changed(
    engine: Engine,
    action: Callable[[UnitOfWork], object],
    error: type[LedgerError],
    rule: str,
    *,
    when: datetime = NOW,
) -> LedgerError:
    """``action`` raises exactly ``error`` (whose ``rule`` is ``rule``) and the ledger size, its
    checkpoint root and the holdings projection are the same afterwards."""
    before = snapshot(engine)
    with (
        SqlAlchemyUnitOfWork(engine, write=True, clock=at(when)) as uow,
        pytest.raises(LedgerError) as caught,
    ):
        action(uow)
    assert type(caught.value) is error, f"{type(caught.value).__name__}: {caught.value}"
    assert caught.value.rule == rule
    after = snapshot(engine)
    assert after.size == before.size
    assert after.root == before.root
    assert after.blocks == before.blocks
    return caught.value


# --- reading the ledger --------------------------------------------------------------------------


def entries(engine: Engine, start: int = 0) -> list[Entry]:
    def load(uow: UnitOfWork) -> list[Entry]:
        return [Entry.from_canonical(b) for b in uow.log.read_entries(start, uow.log.size())]

    return read(engine, load)


def size(engine: Engine) -> int:
    return read(engine, lambda uow: uow.log.size())


def kinds_since(engine: Engine, start: int) -> list[str]:
    return [e.kind for e in entries(engine, start)]


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


def holdings(engine: Engine) -> dict[str, list[tuple[int, int, bool]]]:
    """Per account: the (first, last, retired) ranges of its active blocks, sorted."""

    def collect(uow: UnitOfWork) -> dict[str, list[tuple[int, int, bool]]]:
        out: dict[str, list[tuple[int, int, bool]]] = {}
        for block in uow.projection.active_blocks():
            out.setdefault(block.account_id, []).append((block.first, block.last, block.retired))
        return {k: sorted(v) for k, v in sorted(out.items())}

    return read(engine, collect)


def held_quantity(engine: Engine) -> dict[str, int]:
    return {
        account: sum(last - first + 1 for first, last, _ in ranges)
        for account, ranges in holdings(engine).items()
    }


def blocks_in(engine: Engine, account_id: str) -> list[UnitBlock]:
    return read(
        engine,
        lambda uow: [b for b in uow.projection.active_blocks() if b.account_id == account_id],
    )
