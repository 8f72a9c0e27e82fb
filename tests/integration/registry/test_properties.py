"""Properties of random registry histories, on both databases.

Random sequences of issuances, authorizations, transfers (by quantity or explicit ranges, so blocks
split), uses, cancellations and returns from an external registry; rejected actions roll back in
their own unit of work. After each sequence: quantities are conserved per issued block lineage, no
serial sits in two active blocks, no serial is first transferred twice, the stored projection equals
a replay of the log from seq 0, and ``verify-db`` passes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from ledger.adapters.sql.db import create_ledger_engine
from ledger.adapters.sql.verify import verify_database
from ledger.errors import LedgerError
from ledger.log.chain import Entry
from ledger.ports import UnitOfWork
from ledger.registry import services
from ledger.registry.model import (
    AccountType,
    CancellationKind,
    FirstTransferDefinition,
    Purpose,
    SerialRange,
    UnitBlock,
    UnitSelection,
)
from ledger.registry.projection import InMemoryProjection, block_key, replay
from tests.integration.registry.world import entries, read, write
from tests.registry_world import (
    acted_blocks,
    attributes,
    authorization,
    build_world,
    first_transfer_counts,
)

# (issuing registry, cooperative approach) -> the authorizations a share may cite
ORIGINS: dict[tuple[str, str], tuple[str | None, ...]] = {
    ("THA01", "CA0001"): (None, "THA-NDC", "THA-DUAL", "THA-OP"),
    ("THA01", "CA0003"): (None, "THA-OP", "THA-NDC"),
    ("MNG01", "CA0002"): (None, "MNG-OIMP", "MNG-NDC"),
}
HOLDING = ("THA01-GOV", "THA01-PP", "JPN01-GOV", "MNG01-GOV")
DESTINATIONS = (*HOLDING, "CHE01-EXTERNAL", "THA01-AF", "JPN01-GOV", "CHE01-EXTERNAL")
USE_YEARS = (2021, 2025, 2030, 2030, 2031)


def setup(uow: UnitOfWork) -> None:
    build_world(uow)
    for draft in (
        authorization("THA-NDC", quantity=400),
        authorization(
            "THA-DUAL",
            purposes=Purpose.NDC_AND_OIMP,
            first_transfer_definition=FirstTransferDefinition.ISSUANCE,
            authorized_parties=("JPN", "CHE"),
        ),
        authorization(
            "THA-OP",
            ca_id="CA0003",
            purposes=Purpose.OP,
            first_transfer_definition=FirstTransferDefinition.USE_OR_CANCELLATION,
        ),
        authorization(
            "MNG-OIMP",
            "MNG",
            "CA0002",
            Purpose.OIMP,
            oimp_authorized="CORSIA",
            first_transfer_definition=FirstTransferDefinition.AUTHORIZATION,
        ),
        authorization("MNG-NDC", "MNG", "CA0002", authorized_parties=("JPN",)),
    ):
        services.record_authorization(uow, draft, "setup")
    # A starting stock, so that random histories act on units from the first step.
    for registry_id, ca_id, shares in (
        ("THA01", "CA0001", (("THA01-GOV", 30, "THA-NDC"), ("THA01-PP", 20, None))),
        ("THA01", "CA0001", (("THA01-GOV", 25, "THA-DUAL"),)),
        ("THA01", "CA0003", (("THA01-GOV", 15, "THA-OP"),)),
        ("MNG01", "CA0002", (("MNG01-GOV", 20, "MNG-OIMP"), ("MNG01-GOV", 20, None))),
    ):
        services.issue(
            uow,
            services.Issuance(
                registry_id,
                attributes(registry_id, ca_id, 2021),
                tuple(services.IssuanceShare(a, q, auth) for a, q, auth in shares),
            ),
            "setup",
        )
    services.transfer(
        uow,
        services.TransferOrder("THA01-GOV", "JPN01-GOV", UnitSelection(quantity=15)),
        "setup",
    )


Action = Callable[[UnitOfWork], object]


def draw_selection(data: st.DataObject, held: list[UnitBlock]) -> UnitSelection:
    """A bare quantity (mostly no more than is held), or one or two serial ranges out of blocks
    held in the source account (sometimes running past their end)."""
    if not held or data.draw(st.booleans(), label="by quantity"):
        most = sum(b.quantity for b in held) + 3
        return UnitSelection(quantity=data.draw(st.integers(1, most), label="quantity"))
    block = data.draw(st.sampled_from(held), label="block")
    key = block_key(block)
    first = data.draw(st.integers(block.first, block.last), label="first")
    last = data.draw(st.integers(first, min(block.last + 2, first + 40)), label="last")
    ranges = [SerialRange(first, last)]
    others = [b for b in held if block_key(b) == key and b.first > last]
    second: bool = bool(others) and data.draw(st.booleans(), label="second range")
    if second:
        other = data.draw(st.sampled_from(others), label="second block")
        start = data.draw(st.integers(other.first, other.last), label="second first")
        ranges.append(SerialRange(start, data.draw(st.integers(start, other.last))))
    ca_id, registry_id, party, vintage = key
    return UnitSelection(
        ranges=tuple(ranges),
        ca_id=ca_id,
        originating_registry=registry_id,
        first_transferring_party=party,
        vintage=vintage,
    )


def draw_source(
    data: st.DataObject, state: dict[str, list[UnitBlock]], among: tuple[str, ...]
) -> str:
    """Mostly an account that holds something."""
    holding = [a for a in among if state[a]]
    if holding and data.draw(st.integers(0, 9), label="pick holding") > 0:
        return data.draw(st.sampled_from(holding), label="source")
    return data.draw(st.sampled_from(among), label="source")


KINDS = (
    *("issue", "issue", "authorize", "transfer", "transfer", "transfer"),
    *("use", "oimp", "cancel", "return"),
)
AUTHORIZATIONS = {
    "THA": ("THA-NDC", "THA-DUAL", "THA-OP"),
    "MNG": ("MNG-OIMP", "MNG-NDC"),
    "JPN": ("THA-NDC", "MNG-OIMP"),  # Japan may not authorize Thai or Mongolian units
}


def held(uow: UnitOfWork) -> dict[str, list[UnitBlock]]:
    """What the holding accounts and the external registry's account hold."""
    return {a: uow.projection.held_blocks(a) for a in (*HOLDING, "CHE01-EXTERNAL")}


def draw_action(data: st.DataObject, engine: Engine) -> tuple[str, Action]:
    return draw_action_on(data, read(engine, held))


def draw_action_on(data: st.DataObject, state: dict[str, list[UnitBlock]]) -> tuple[str, Action]:
    """A random action on units held as ``state`` says (see :func:`held`)."""
    kind = data.draw(st.sampled_from(KINDS), label="action")
    if kind == "issue":
        (registry_id, ca_id) = data.draw(st.sampled_from(sorted(ORIGINS)), label="origin")
        accounts = [a for a in HOLDING if a.startswith(registry_id)]
        citations = ORIGINS[(registry_id, ca_id)]
        shares = data.draw(
            st.lists(
                st.tuples(
                    st.sampled_from(accounts),
                    st.integers(1, 40),
                    st.sampled_from((*citations, *citations[1:])),
                ),
                min_size=1,
                max_size=2,
            ),
            label="shares",
        )
        vintage = data.draw(st.sampled_from((2021, 2021, 2022, 2022, 2031, 2020)), label="vintage")
        order = services.Issuance(
            registry_id,
            attributes(registry_id, ca_id, vintage),
            tuple(services.IssuanceShare(a, q, auth) for a, q, auth in shares),
        )
        return kind, lambda uow: services.issue(uow, order, "p")
    if kind == "authorize":
        account = draw_source(data, state, HOLDING)
        auth_id = data.draw(st.sampled_from(AUTHORIZATIONS[account[:3]]), label="auth")
        unauthorized = [b for b in state[account] if b.authorization_id is None]
        selection = draw_selection(data, unauthorized or state[account])
        return kind, lambda uow: services.authorize_units(uow, auth_id, account, selection, "p")
    if kind == "return" and not state["CHE01-EXTERNAL"]:
        kind = "transfer"  # nothing to return yet
    if kind == "transfer":
        source = draw_source(data, state, (*HOLDING, "CHE01-EXTERNAL"))
        destination = data.draw(
            st.sampled_from([d for d in DESTINATIONS if d != source]), label="destination"
        )
        transfer = services.TransferOrder(source, destination, draw_selection(data, state[source]))
        return kind, lambda uow: services.transfer(uow, transfer, "p")
    if kind == "return":
        away = state["CHE01-EXTERNAL"]
        block = data.draw(st.sampled_from(away), label="away")
        first = data.draw(st.integers(block.first, block.last), label="first")
        last = data.draw(st.integers(first, block.last + 2), label="last")
        acquisition = services.ExternalAcquisition(
            from_registry="CHE01",
            to_account=data.draw(st.sampled_from(("JPN01-GOV", "THA01-GOV")), label="to"),
            attributes=block.attributes,
            first=first,
            last=last,
            authorization_id=block.authorization_id,
            authorization_version=block.authorization_version,
            first_transferred=block.first_transferred,
        )
        return kind, lambda uow: services.acquire_from_external(uow, acquisition, "p")
    source = draw_source(data, state, ("THA01-GOV", "JPN01-GOV", "JPN01-GOV", "MNG01-GOV"))
    registry_id = source[:5]
    selection = draw_selection(data, state[source])
    if kind == "use":
        year = data.draw(st.sampled_from(USE_YEARS), label="use year")
        use = services.UseOrder(source, f"{registry_id}-NDC", selection, use_year=year)
        return kind, lambda uow: services.use_for_ndc(uow, use, "p")
    if kind == "oimp":
        oimp = services.UseOrder(source, f"{registry_id}-OIMP", selection, oimp_purpose="CORSIA")
        return kind, lambda uow: services.use_for_oimp(uow, oimp, "p")
    omge = data.draw(st.booleans(), label="omge")
    cancellation = services.CancellationOrder(
        source,
        f"{registry_id}-OMGE" if omge else f"{registry_id}-CANCEL",
        selection,
        CancellationKind.VOLUNTARY_OMGE if omge else CancellationKind.OTHER,
    )
    return kind, lambda uow: services.cancel(uow, cancellation, "p")


def root_of(block: UnitBlock, every: dict[int, UnitBlock]) -> UnitBlock:
    while block.parent_id is not None:
        block = every[block.parent_id]
    return block


def check_invariants(engine: Engine) -> None:
    log = entries(engine)
    with_bodies: list[bytes] = read(engine, lambda uow: uow.log.read_entries(0, uow.log.size()))
    stored_active: list[UnitBlock] = read(engine, lambda uow: uow.projection.active_blocks())
    replayed: InMemoryProjection = replay(with_bodies)
    assert replayed.active_blocks() == stored_active

    # Quantity is conserved per issued block: its active descendants tile its serial range.
    issued = {b.block_id: b for e in log if e.kind == "mo.issued" for b in acted_blocks(e)}
    descendants: dict[int, list[UnitBlock]] = {block_id: [] for block_id in issued}
    for block in stored_active:
        root = root_of(block, replayed.block_by_id)
        assert root.block_id in issued, f"block {block.block_id} descends from no issuance"
        descendants[root.block_id].append(block)
    for block_id, root in issued.items():
        pieces = sorted(descendants[block_id], key=lambda b: b.first)
        assert sum(p.quantity for p in pieces) == root.quantity
        assert [(p.first, p.last) for p in pieces][:1] == [(root.first, pieces[0].last)]
        for left, right in zip(pieces, pieces[1:], strict=False):
            assert right.first == left.last + 1
        assert pieces[-1].last == root.last

    # No serial in two active blocks.
    for i, one in enumerate(stored_active):
        for other in stored_active[i + 1 :]:
            if block_key(one) == block_key(other):
                assert one.last < other.first or other.last < one.first, (one, other)

    # No serial first transferred twice, and each block's first transfer covers it.
    counts = first_transfer_counts(log)
    assert set(counts.values()) <= {1}
    by_seq: dict[int, Entry] = {e.seq: e for e in log}
    for block in stored_active:
        seq = block.first_transfer_seq
        if seq is None:
            continue
        entry = by_seq[seq]
        assert entry.kind == "itmo.first_transfer"
        assert any(
            block_key(b) == block_key(block) and b.first <= block.first and block.last <= b.last
            for b in acted_blocks(entry)
        )

    # Units used or cancelled sit in terminal accounts, and nothing else does; whatever was used
    # for OIMP or left its Party for NDC purposes was first transferred on the way.
    accounts = {a.account_id: a for a in replayed.accounts()}
    registries = {r.registry_id: r for r in replayed.registries()}
    for block in stored_active:
        account = accounts[block.account_id]
        assert block.retired == account.account_type.is_terminal
        if account.account_type in (AccountType.OIMP_USE, AccountType.NDC_USE):
            assert block.first_transferred, block
        holder = registries[account.registry_id].party
        if holder != block.attributes.first_transferring_party and block.authorization_id:
            granted = replayed.get_authorization(block.authorization_id)
            assert granted is not None
            if granted.purposes.covers_ndc:
                assert block.first_transferred, block

    # The stored per-serial history and the other projection queries agree with the replay.
    def same_queries(uow: UnitOfWork) -> None:
        for block in stored_active:
            key = block_key(block)
            for serial in (block.first, block.last):
                assert uow.projection.block_history(key, serial) == replayed.block_history(
                    key, serial
                )
            assert uow.projection.next_serial(key) == replayed.next_serial(key)
        for granted in replayed.authorizations():
            assert uow.projection.authorized_quantity(
                granted.authorization_id
            ) == replayed.authorized_quantity(granted.authorization_id)
        assert uow.projection.next_block_id() == replayed.next_block_id()

    read(engine, same_queries)
    assert verify_database(engine).ok


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_histories_keep_the_invariants(database_factory: Any, data: st.DataObject) -> None:
    url = database_factory.create()
    engine = create_ledger_engine(url)
    try:
        write(engine, setup)
        steps = data.draw(st.integers(5, 30), label="steps")
        for _ in range(steps):
            kind, action = draw_action(data, engine)
            try:
                write(engine, action)
            except LedgerError as exc:
                event(f"{kind} rejected: {type(exc).__name__}")
            else:
                event(f"{kind} recorded")
        check_invariants(engine)
    finally:
        engine.dispose()
        database_factory.drop(url)
