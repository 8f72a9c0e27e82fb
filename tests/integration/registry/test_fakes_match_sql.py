"""The in-memory fakes record what the database records: the same scenario, run on
``FakeUnitOfWork`` and on ``SqlAlchemyUnitOfWork`` (both databases), gives byte-identical entries,
the same Merkle tree and the same projection, refusals and rolled-back partial actions included.
This is what lets the service tests in ``tests/unit/registry`` stand in for database tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.demo import load_demo, solar, thai_ndc_authorization
from ledger.errors import AuthorizationLimitExceeded, LedgerError, UnitsAlreadyRetired
from ledger.ports import UnitOfWork
from ledger.registry import services
from ledger.registry.model import CancellationKind, FirstTransferDefinition, Purpose, UnitSelection
from tests.fakes import FakeUnitOfWork
from tests.integration.registry.world import read
from tests.registry_world import NOW, at, serials
from tests.unit.registry.in_memory import act

Action = Callable[[UnitOfWork], object]
Outcome = type[LedgerError] | None


def issue_thai(authorization_id: str, quantity: int, vintage: int) -> Action:
    share = services.IssuanceShare("THA01-GOV", quantity, authorization_id)
    issuance = services.Issuance("THA01", solar("THA01", "THA", "CA0001", vintage), (share,))
    return lambda uow: services.issue(uow, issuance, "THA01")


def record(authorization_id: str, **changes: Any) -> Action:
    draft = replace(thai_ndc_authorization(), authorization_id=authorization_id, **changes)
    return lambda uow: services.record_authorization(uow, draft, "THA01")


def transfer(source: str, destination: str, selection: UnitSelection) -> Action:
    order = services.TransferOrder(source, destination, selection)
    return lambda uow: services.transfer(uow, order, "THA01")


def returning_from_switzerland(first: int, last: int) -> Action:
    order = services.ExternalAcquisition(
        from_registry="CHE01",
        to_account="JPN01-GOV",
        attributes=solar("THA01", "THA", "CA0001", 2024),
        first=first,
        last=last,
        authorization_id="THA-OPEN",
        authorization_version=1,
        first_transferred=True,
        reference="CHE01 transfer 7",
    )
    return lambda uow: services.acquire_from_external(uow, order, "JPN01")


def use_again() -> Action:
    order = services.UseOrder(
        "JPN01-GOV", "JPN01-NDC", serials((1, 10), registry_id="THA01"), use_year=2026
    )
    return lambda uow: services.use_for_ndc(uow, order, "JPN01")


def omge(quantity: int) -> Action:
    order = services.CancellationOrder(
        "THA01-GOV",
        "THA01-OMGE",
        UnitSelection(quantity=quantity, vintage=2025),
        CancellationKind.VOLUNTARY_OMGE,
    )
    return lambda uow: services.cancel(uow, order, "THA01")


def moment(hours: int) -> datetime:
    return NOW + timedelta(hours=hours)


# (when, action, the refusal expected or None)
SCENARIO: list[tuple[datetime, Action, Outcome]] = [
    (moment(0), load_demo, None),
    # Used serials cannot be used again (one-time use): rolled back.
    (moment(1), use_again(), UnitsAlreadyRetired),
    # Japan may not pass Thai units on to Switzerland: the authorization names Japan only.
    (
        moment(2),
        transfer("JPN01-GOV", "CHE01-EXTERNAL", UnitSelection(quantity=5)),
        AuthorizationLimitExceeded,
    ),
    (moment(3), record("THA-OPEN", authorized_parties=(), quantity=500), None),
    (moment(4), issue_thai("THA-OPEN", 200, 2024), None),
    (
        moment(5),
        transfer("THA01-GOV", "CHE01-EXTERNAL", UnitSelection(quantity=50, vintage=2024)),
        None,
    ),
    (moment(6), returning_from_switzerland(10, 20), None),
    # A new version, dated the day it is recorded, adds OIMP with first transfer at
    # authorization, but it has expired: the definition and the version are appended, then the
    # first transfer of the bound units (dated with the version) is refused, and the whole unit
    # of work rolls back.
    (moment(7), record("THA-LATER", quantity=100), None),
    (moment(8), issue_thai("THA-LATER", 40, 2025), None),
    (
        moment(9),
        record(
            "THA-LATER",
            quantity=100,
            purposes=Purpose.NDC_AND_OIMP,
            first_transfer_definition=FirstTransferDefinition.AUTHORIZATION,
            authorized_on=moment(9).date(),
            valid_until=date(2025, 12, 31),
        ),
        AuthorizationLimitExceeded,
    ),
    (moment(10), omge(15), None),
    (moment(11), transfer("THA01-GOV", "JPN01-GOV", UnitSelection(quantity=20)), None),
]


def run_on_fake(fake: FakeUnitOfWork) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for when, action, _ in SCENARIO:
        try:
            act(fake, action, when=when)
        except LedgerError as exc:
            outcomes.append(type(exc))
        else:
            outcomes.append(None)
    return outcomes


def run_on_database(engine: Engine) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for when, action, _ in SCENARIO:
        try:
            with SqlAlchemyUnitOfWork(engine, write=True, clock=at(when)) as uow:
                action(uow)
                uow.commit()
        except LedgerError as exc:
            outcomes.append(type(exc))
        else:
            outcomes.append(None)
    return outcomes


def tree(uow: UnitOfWork) -> tuple[object, ...]:
    """The log's bytes and every root, plus proofs across the whole tree."""
    size = uow.log.size()
    return (
        uow.log.read_entries(0, size),
        [uow.log.root(n) for n in range(size + 1)],
        [uow.log.inclusion_proof(i, size) for i in range(0, size, 5)],
        [uow.log.consistency_proof(m, size) for m in range(1, size + 1, 4)],
    )


def projection(uow: UnitOfWork) -> tuple[object, ...]:
    p = uow.projection
    return (
        p.parties(),
        p.registries(),
        p.cooperative_approaches(),
        p.authorizations(),
        p.entities(),
        p.accounts(),
        p.active_blocks(),
        p.get_first_transfer_definition("THA", "CA0001"),
        p.get_first_transfer_definition("MNG", "CA0002"),
    )


def test_the_fake_and_the_database_record_the_same_bytes(engine: Engine) -> None:
    expected = [outcome for _, _, outcome in SCENARIO]
    fake = FakeUnitOfWork()
    assert run_on_fake(fake) == expected
    assert run_on_database(engine) == expected
    assert fake.log.size() == read(engine, lambda uow: uow.log.size()) > 40
    assert tree(fake) == read(engine, tree)
    assert projection(fake) == read(engine, projection)
