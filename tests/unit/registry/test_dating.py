"""Action dates on the in-memory fakes: what an action's entries record, the guard rails that
refuse a date (future, before the actions it depends on, in a submitted reported year) and the
time rules (authorization before first transfer, vintage, use year, OIMP deadline)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from ledger.errors import (
    ActionBeforeAuthorization,
    ActionDateBeforePreviousAction,
    ActionDateInFuture,
    OimpFirstTransferTooLate,
    SubmittedYearNotRestated,
    UseYearBeforeVintage,
    VintageNotYetAchieved,
)
from ledger.log.chain import Entry
from ledger.ports import UnitOfWork
from ledger.recording import record_entry
from ledger.registry import services
from ledger.registry.dating import Dating, action_date
from ledger.registry.model import FirstTransferDefinition, Purpose, Registry
from tests.fakes import FakeUnitOfWork
from tests.registry_world import (
    NOW,
    attributes,
    authorization,
    entity,
    issuance,
    move,
    quantity,
    serials,
    use,
)
from tests.unit.registry.in_memory import act, assert_refused, entries, holdings

TODAY = NOW.date()


def on(day: date, **rest: Any) -> Dating:
    return Dating(action_date=day, **rest)


def thai_units(uow: FakeUnitOfWork, issued_on: date = date(2025, 11, 5)) -> None:
    """Thailand authorizes (2025-10-30) and issues 100 NDC-authorized units on ``issued_on``."""
    act(uow, lambda u: services.record_authorization(u, authorization("THA-NDC"), "THA01"))
    shares = issuance(("THA01-GOV", 100, "THA-NDC"))
    act(uow, lambda u: services.issue(u, shares, "THA01", dating=on(issued_on)))


def first_transfer(uow: FakeUnitOfWork, n: int, day: date) -> None:
    order = move("THA01-GOV", "JPN01-GOV", quantity(n))
    act(uow, lambda u: services.transfer(u, order, "THA01", dating=on(day)))


def test_every_entry_of_an_action_keeps_its_action_date_and_its_recording_time(
    uow: FakeUnitOfWork,
) -> None:
    thai_units(uow)
    start = uow.log.size()
    first_transfer(uow, 30, date(2025, 11, 11))
    recorded = entries(uow, start)
    assert [e.kind for e in recorded] == ["itmo.first_transfer", "itmo.acquisition"]
    assert {e.payload["action_date"] for e in recorded} == {"2025-11-11"}
    assert {e.timestamp for e in recorded} == {NOW}
    assert "restates" not in recorded[0].payload
    assert {action_date(e) for e in recorded} == {date(2025, 11, 11)}
    # Every block the action wrote carries its date: the pieces moved and the remainder.
    dated = {b.first: b.last_action_date for b in uow.projection.active_blocks()}
    assert dated == {1: date(2025, 11, 11), 31: date(2025, 11, 11)}


def test_an_action_without_a_date_is_dated_on_its_recording_day(uow: FakeUnitOfWork) -> None:
    act(uow, lambda u: services.record_authorization(u, authorization("THA-NDC"), "THA01"))
    start = uow.log.size()
    act(uow, lambda u: services.issue(u, issuance(("THA01-GOV", 10, "THA-NDC")), "THA01"))
    (issued,) = entries(uow, start)
    assert issued.payload["action_date"] == TODAY.isoformat()
    assert [b.last_action_date for b in uow.projection.active_blocks()] == [TODAY]


def test_an_entry_without_an_action_date_is_dated_by_its_timestamp() -> None:
    uow = FakeUnitOfWork(lambda: datetime(2025, 12, 31, 23, 30, tzinfo=UTC))
    with uow:
        record_entry(uow, "log.note", {"text": "written before action dates"}, "test")
        uow.commit()
    (entry,) = entries(uow)
    assert action_date(entry) == date(2025, 12, 31)


def test_an_authorization_is_dated_by_its_date_of_authorization(uow: FakeUnitOfWork) -> None:
    start = uow.log.size()
    act(uow, lambda u: services.record_authorization(u, authorization("THA-NDC"), "THA01"))
    act(uow, lambda u: services.record_authorized_entity(u, entity("MNG-E1"), "MNG01"))
    assert [e.payload["action_date"] for e in entries(uow, start)] == [
        "2025-10-30",
        "2026-01-15",
    ]


def test_an_action_date_in_the_future_is_refused(uow: FakeUnitOfWork) -> None:
    thai_units(uow)
    tomorrow = date(2026, 3, 11)
    order = move("THA01-GOV", "JPN01-GOV", quantity(10))
    error = assert_refused(
        uow,
        lambda u: services.transfer(u, order, "THA01", dating=on(tomorrow)),
        ActionDateInFuture,
        "action-date-not-in-future",
    )
    assert error.details == {"action_date": "2026-03-11", "today": "2026-03-10"}
    future_authorization = authorization("THA-LATER", authorized_on=tomorrow)
    assert_refused(
        uow,
        lambda u: services.record_authorization(u, future_authorization, "THA01"),
        ActionDateInFuture,
        "action-date-not-in-future",
    )


def test_a_transfer_is_not_dated_before_the_issuance_of_its_units(uow: FakeUnitOfWork) -> None:
    thai_units(uow, issued_on=date(2025, 11, 5))
    order = move("THA01-GOV", "JPN01-GOV", quantity(10))
    error = assert_refused(
        uow,
        lambda u: services.transfer(u, order, "THA01", dating=on(date(2025, 11, 4))),
        ActionDateBeforePreviousAction,
        "action-date-after-previous-action",
    )
    assert error.details["previous_action_date"] == "2025-11-05"
    # The same day is fine.
    first_transfer(uow, 10, date(2025, 11, 5))


def test_an_action_is_not_dated_before_the_last_action_on_its_units(
    uow: FakeUnitOfWork,
) -> None:
    thai_units(uow)
    first_transfer(uow, 30, date(2025, 11, 11))
    early_use = use("JPN01-GOV", "JPN01-NDC", quantity(10))
    assert_refused(
        uow,
        lambda u: services.use_for_ndc(u, early_use, "JPN01", dating=on(date(2025, 11, 10))),
        ActionDateBeforePreviousAction,
        "action-date-after-previous-action",
    )
    # The remainder Thailand kept was split off by the first transfer: dated with it too.
    kept = move("THA01-GOV", "JPN01-GOV", serials((31, 40)))
    assert_refused(
        uow,
        lambda u: services.transfer(u, kept, "THA01", dating=on(date(2025, 11, 6))),
        ActionDateBeforePreviousAction,
        "action-date-after-previous-action",
    )
    act(uow, lambda u: services.use_for_ndc(u, early_use, "JPN01", dating=on(date(2025, 12, 1))))
    assert holdings(uow)["JPN01-NDC"] == [(1, 10, True)]


def test_units_of_a_block_written_before_action_dates_are_dated_by_its_entry(
    uow: FakeUnitOfWork,
) -> None:
    """A block without a last action date (written before they were recorded) is checked
    against the date of the last entry that wrote it."""
    thai_units(uow, issued_on=date(2026, 3, 1))
    (block,) = uow.projection.active_blocks()
    uow.projection.put_block(replace(block, last_action_date=None))
    uow.commit()
    order = move("THA01-GOV", "JPN01-GOV", quantity(10))
    assert_refused(
        uow,
        lambda u: services.transfer(u, order, "THA01", dating=on(date(2026, 2, 1))),
        ActionDateBeforePreviousAction,
        "action-date-after-previous-action",
    )


def test_a_first_transfer_is_not_dated_before_its_authorization(uow: FakeUnitOfWork) -> None:
    later = authorization("THA-LATE", authorized_on=date(2025, 12, 1))
    act(uow, lambda u: services.record_authorization(u, later, "THA01"))
    act(
        uow,
        lambda u: services.issue(
            u, issuance(("THA01-PP", 50, None)), "THA01", dating=on(date(2025, 11, 1))
        ),
    )
    # Binding units to it before its date is refused as well.
    error = assert_refused(
        uow,
        lambda u: services.authorize_units(
            u, "THA-LATE", "THA01-PP", quantity(50), "THA01", dating=on(date(2025, 11, 20))
        ),
        ActionBeforeAuthorization,
        "authorization-before-action",
    )
    assert error.details["authorized_on"] == "2025-12-01"
    shares = issuance(("THA01-GOV", 10, "THA-LATE"))
    assert_refused(
        uow,
        lambda u: services.issue(u, shares, "THA01", dating=on(date(2025, 11, 30))),
        ActionBeforeAuthorization,
        "authorization-before-action",
    )
    # Units that arrived bound to it from an external registry of Thailand before its date
    # cannot be first transferred before that date either.
    thai_external = Registry("THA02", "THA", "Thai external registry", hosted=False)
    act(uow, lambda u: services.register_registry(u, thai_external, "admin"))
    arriving = services.ExternalAcquisition(
        from_registry="THA02",
        to_account="THA01-GOV",
        attributes=attributes("THA02"),
        first=1,
        last=20,
        authorization_id="THA-LATE",
        authorization_version=1,
        first_transferred=False,
    )
    dated = on(date(2025, 11, 20))
    act(uow, lambda u: services.acquire_from_external(u, arriving, "THA01", dating=dated))
    from_thai_external = move("THA01-GOV", "JPN01-GOV", quantity(5, originating_registry="THA02"))
    error = assert_refused(
        uow,
        lambda u: services.transfer(u, from_thai_external, "THA01", dating=on(date(2025, 11, 30))),
        ActionBeforeAuthorization,
        "authorization-before-action",
    )
    assert error.details["action_date"] == "2025-11-30"
    # A second version dated later: a first transfer is pinned to the version in force on its
    # action date.
    act(uow, lambda u: services.issue(u, shares, "THA01", dating=on(date(2025, 12, 1))))
    v2 = authorization("THA-LATE", authorized_on=date(2025, 12, 20), quantity=500)
    act(uow, lambda u: services.record_authorization(u, v2, "THA01"))
    order = move("THA01-GOV", "JPN01-GOV", quantity(5, originating_registry="THA01"))
    early = act(uow, lambda u: services.transfer(u, order, "THA01", dating=on(date(2025, 12, 10))))
    late = act(uow, lambda u: services.transfer(u, order, "THA01", dating=on(date(2025, 12, 20))))
    assert [b.authorization_version for b in (*early, *late)] == [1, 2]


def test_no_action_is_dated_before_the_vintage_of_its_units(uow: FakeUnitOfWork) -> None:
    act(uow, lambda u: services.record_authorization(u, authorization("THA-NDC"), "THA01"))
    shares = issuance(("THA01-GOV", 10, "THA-NDC"), vintage=2026)
    error = assert_refused(
        uow,
        lambda u: services.issue(u, shares, "THA01", dating=on(date(2025, 12, 31))),
        VintageNotYetAchieved,
        "vintage-not-after-action-date",
    )
    assert error.details == {"vintage": 2026, "action_date": "2025-12-31"}
    act(uow, lambda u: services.issue(u, shares, "THA01", dating=on(date(2026, 1, 1))))


def test_units_are_not_used_for_a_year_before_their_vintage(uow: FakeUnitOfWork) -> None:
    act(uow, lambda u: services.record_authorization(u, authorization("THA-NDC"), "THA01"))
    shares = issuance(("THA01-GOV", 10, "THA-NDC"), vintage=2024)
    act(uow, lambda u: services.issue(u, shares, "THA01"))
    act(uow, lambda u: services.transfer(u, move("THA01-GOV", "JPN01-GOV", quantity(10)), "T"))
    error = assert_refused(
        uow,
        lambda u: services.use_for_ndc(u, use("JPN01-GOV", "JPN01-NDC", quantity(5), 2023), "J"),
        UseYearBeforeVintage,
        "use-year-not-before-vintage",
    )
    assert error.details == {"vintage": 2024, "use_year": 2023}
    act(uow, lambda u: services.use_for_ndc(u, use("JPN01-GOV", "JPN01-NDC", quantity(5)), "J"))


def mongolian_oimp_units(uow: FakeUnitOfWork, vintage: int, when: datetime) -> None:
    """Mongolia authorizes 100 units for CORSIA with first transfer at use or cancellation and
    issues them at ``when``."""
    oimp = authorization(
        "MNG-OIMP",
        party="MNG",
        ca_id="CA0002",
        purposes=Purpose.OIMP,
        oimp_authorized="CORSIA",
        first_transfer_definition=FirstTransferDefinition.USE_OR_CANCELLATION,
    )
    act(uow, lambda u: services.record_authorization(u, oimp, "MNG01"))
    shares = issuance(
        ("MNG01-GOV", 100, "MNG-OIMP"), registry_id="MNG01", ca_id="CA0002", vintage=vintage
    )
    act(uow, lambda u: services.issue(u, shares, "MNG01"), when=when)


def corsia_use(n: int) -> services.UseOrder:
    return services.UseOrder("MNG01-GOV", "MNG01-OIMP", quantity(n), oimp_purpose="CORSIA")


@pytest.mark.parametrize("btr_after", [2, 3])
def test_oimp_first_transfers_close_the_year_before_the_end_of_period_btr(
    uow: FakeUnitOfWork, btr_after: int
) -> None:
    """Mongolia's NDC period ends in 2030; its BTR with 2030 comes ``btr_after`` years later,
    so OIMP first transfers (here at use) close on 31 December of the year before."""
    mongolian_oimp_units(uow, 2030, datetime(2030, 6, 1, tzinfo=UTC))
    deadline = date(2030 + btr_after - 1, 12, 31)
    after = datetime(deadline.year + 1, 1, 1, tzinfo=UTC)
    rules = Dating(end_of_period_btr_after=btr_after)

    def use_oimp(u: UnitOfWork) -> object:
        return services.use_for_oimp(u, corsia_use(10), "MNG01", dating=rules)

    error = assert_refused(
        uow, use_oimp, OimpFirstTransferTooLate, "oimp-first-transfer-deadline", when=after
    )
    assert error.details["deadline"] == deadline.isoformat()
    act(uow, use_oimp, when=datetime(deadline.year, 12, 31, 23, 0, tzinfo=UTC))
    kinds = [e.kind for e in entries(uow)[-2:]]
    assert kinds == ["itmo.first_transfer", "itmo.oimp_use"]


def test_an_action_in_a_submitted_year_needs_restates(uow: FakeUnitOfWork) -> None:
    """Once Thailand submitted its AEF for 2025, an action of Thailand dated in 2025 is refused
    unless it restates 2025; the entry then says which year it restates."""
    thai_units(uow)
    act(
        uow,
        lambda u: record_entry(
            u,
            "aef.submitted",
            {
                "party": "THA",
                "reported_year": 2025,
                "version": "1.0",
                "tree_size": u.log.size(),
                "date_of_submission": "2026-03-01",
                "report_sha256": "00" * 32,
            },
            "THA01",
        ),
    )
    assert uow.projection.submitted_versions("THA", 2025) == ["1.0"]
    order = move("THA01-GOV", "JPN01-GOV", quantity(10))
    back_dated = on(date(2025, 12, 1))
    error = assert_refused(
        uow,
        lambda u: services.transfer(u, order, "THA01", dating=back_dated),
        SubmittedYearNotRestated,
        "restates-submitted-year",
    )
    assert error.details["party"] == "THA"
    assert error.details["versions"] == ["1.0"]
    # Restating 2025, it is recorded, and every entry says which year it restates.
    start = uow.log.size()
    restating = on(date(2025, 12, 1), restates=True)
    act(uow, lambda u: services.transfer(u, order, "THA01", dating=restating))
    assert [(e.payload["action_date"], e.payload["restates"]) for e in entries(uow, start)] == [
        ("2025-12-01", 2025),
        ("2025-12-01", 2025),
    ]
    # Dated in 2026 (no submission yet), an action needs nothing and records nothing of it.
    start = uow.log.size()
    restates_nothing = on(date(2026, 1, 5), restates=True)
    act(uow, lambda u: services.transfer(u, order, "THA01", dating=restates_nothing))
    assert all("restates" not in e.payload for e in entries(uow, start))


def test_entries_read_back_their_action_date(uow: FakeUnitOfWork) -> None:
    thai_units(uow, issued_on=date(2025, 11, 5))
    issued = [e for e in entries(uow) if e.kind == "mo.issued"]
    assert [action_date(e) for e in issued] == [date(2025, 11, 5)]
    broken = Entry(0, "mo.issued", NOW, "t", bytes(32), {"action_date": "11/05/2025"})
    with pytest.raises(Exception, match="not an ISO 8601 date"):
        action_date(broken)
