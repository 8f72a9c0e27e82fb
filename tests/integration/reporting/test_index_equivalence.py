"""The reports read through the entry index equal the reports of a replay of the whole log, on
random histories, on both databases.

The histories are those of ``tests.integration.registry.test_properties`` (issuances,
authorizations, transfers by quantity or serial ranges, uses, OIMP uses, cancellations, returns
from an external registry, refused actions among them), dated on a clock that moves forward
from November 2025, with the reports' own inputs mixed in: emissions, policy choices and AEF
submissions. For every Party, now and as of a random tree size, the Party's facts, adjustments,
BTR structured summary, 23(j) breakdowns, AEF of each year and submissions must be the same
(the same values, or the same refusal) whether the scan reads the indexed entries or every
entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from ledger.accounting import reporting
from ledger.accounting.adjustments import AveragingBasis
from ledger.adapters.sql.db import create_ledger_engine
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.errors import LedgerError
from ledger.log.chain import Entry
from ledger.ports import UnitOfWork
from ledger.registry import services
from ledger.registry.model import CancellationKind, SerialRange, UnitSelection
from tests.integration.registry.test_properties import DESTINATIONS, HOLDING, draw_action, setup
from tests.integration.registry.world import read, write
from tests.registry_world import at

START = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
PARTIES = ("JPN", "THA", "MNG", "CHE")
YEARS = (2025, 2026, 2027)


def whole_log(uow: UnitOfWork, *_args: object) -> list[Entry]:
    """Every entry below the tree size (the last argument): the scan before the index."""
    end = _args[-1]
    assert isinstance(end, int)
    return [Entry.from_canonical(body) for body in uow.log.read_entries(0, end)]


@contextmanager
def replaying_the_whole_log() -> Iterator[None]:
    with (
        mock.patch("ledger.accounting.reporting.replay.party_entries", whole_log),
        mock.patch("ledger.accounting.reporting.submissions.indexed_entries", whole_log),
    ):
        yield


def outcome(compute: Callable[[], object]) -> object:
    try:
        return ("value", compute())
    except LedgerError as exc:
        return ("refused", type(exc).__name__, exc.message)


def reports(uow: UnitOfWork, as_of: int) -> dict[str, object]:
    found: dict[str, object] = {}
    for party in PARTIES:
        year = YEARS[as_of % len(YEARS)]
        computed: dict[str, Callable[[], object]] = {
            "facts": partial(reporting.party_facts, uow, party),
            "facts as of": partial(reporting.party_facts, uow, party, tree_size=as_of),
            "summary": partial(reporting.structured_summary_for, uow, party),
            "breakdowns": partial(reporting.breakdowns_for, uow, party),
            "submissions": partial(reporting.submissions, uow, party),
            "AEF as of": partial(reporting.aef_report_for, uow, party, year, tree_size=as_of),
            **{f"AEF {y}": partial(reporting.aef_report_for, uow, party, y) for y in YEARS},
        }
        for name, compute in computed.items():
            found[f"{party} {name}"] = outcome(compute)
    return found


def draw_input(data: st.DataObject, when: datetime) -> tuple[str, Callable[[UnitOfWork], Any]]:
    party = data.draw(st.sampled_from(PARTIES[:3]), label="party")
    kind = data.draw(st.sampled_from(("emissions", "policy", "submission")), label="input")
    if kind == "emissions":
        year = data.draw(st.integers(2021, when.year), label="year")
        value = data.draw(st.integers(-50, 5_000), label="value")
        return kind, lambda uow: reporting.record_emissions(uow, party, year, value, "p")
    if kind == "policy":
        basis = data.draw(st.sampled_from((None, *AveragingBasis)), label="basis")
        return kind, lambda uow: reporting.record_policy_choice(
            uow, party, "p", averaging_basis=basis
        )
    year = data.draw(st.integers(2024, when.year), label="reported year")
    return kind, lambda uow: reporting.record_submission(uow, party, year, "p")


def draw_whole_block(
    data: st.DataObject, engine: Engine
) -> tuple[str, Callable[[UnitOfWork], Any]]:
    """Every serial of one held block leaves its account (transferred, used or cancelled): the
    entry names the source account only as ``from_account``, the block itself is rewritten in
    the destination."""
    held = read(engine, lambda uow: {a: uow.projection.held_blocks(a) for a in HOLDING})
    sources = [a for a in HOLDING if held[a]]
    if not sources:
        return "whole block", lambda uow: None
    source = data.draw(st.sampled_from(sources), label="whole block source")
    block = data.draw(st.sampled_from(held[source]), label="whole block")
    a = block.attributes
    selection = UnitSelection(
        ranges=(SerialRange(block.first, block.last),),
        ca_id=a.ca_id,
        originating_registry=a.registry_id,
        first_transferring_party=a.first_transferring_party,
        vintage=a.vintage,
    )
    how = data.draw(st.sampled_from(("transfer", "transfer", "use", "cancel")), label="how")
    registry_id = source[:5]
    if how == "use":
        use = services.UseOrder(source, f"{registry_id}-NDC", selection, use_year=2025)
        return "whole block use", lambda uow: services.use_for_ndc(uow, use, "p")
    if how == "cancel":
        order = services.CancellationOrder(
            source, f"{registry_id}-CANCEL", selection, CancellationKind.OTHER
        )
        return "whole block cancel", lambda uow: services.cancel(uow, order, "p")
    destination = data.draw(
        st.sampled_from([d for d in DESTINATIONS if d != source]), label="whole block to"
    )
    transfer = services.TransferOrder(source, destination, selection)
    return "whole block transfer", lambda uow: services.transfer(uow, transfer, "p")


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_indexed_reports_equal_the_reports_of_the_whole_log(
    database_factory: Any, data: st.DataObject
) -> None:
    url = database_factory.create()
    engine: Engine = create_ledger_engine(url)
    try:
        when = START
        write(engine, setup, when=when)
        write(
            engine,
            lambda uow: reporting.record_ndc_target(uow, "MNG", "setup", budget=4_000),
            when=when,
        )
        for _ in range(data.draw(st.integers(4, 18), label="steps")):
            when += timedelta(days=data.draw(st.integers(0, 80), label="days"))
            choice = data.draw(st.integers(0, 5), label="input, whole block or action")
            if choice == 0:
                kind, action = draw_input(data, when)
            elif choice == 1:
                kind, action = draw_whole_block(data, engine)
            else:
                kind, action = draw_action(data, engine)
            try:
                write(engine, action, when=when)
            except LedgerError as exc:
                event(f"{kind} rejected: {type(exc).__name__}")
            else:
                event(f"{kind} recorded")
        with SqlAlchemyUnitOfWork(engine, write=False, clock=at(when)) as uow:
            as_of = data.draw(st.integers(0, uow.log.size()), label="as of")
            indexed = reports(uow, as_of)
            with replaying_the_whole_log():
                replayed = reports(uow, as_of)
        for name, value in replayed.items():
            assert indexed[name] == value, name
        event(f"{sum(v[0] == 'value' for v in replayed.values())} reports computed")  # type: ignore[index]
    finally:
        engine.dispose()
