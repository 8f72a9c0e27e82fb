"""Flows between Parties read from log entries: international transfers counted once (not again
as the acquisition a hosted registry records next), acquisitions from external registries
counted, moves inside a Party and unknown accounts left out; grouped by approach and vintage."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ledger.accounting.reporting import Flow, flows_for, international_flows
from ledger.accounting.reporting.entries import TreeSizeBeyondLog
from ledger.demo import load_demo, solar
from ledger.log.canonical import JsonValue
from ledger.log.chain import Entry
from ledger.registry.codec import to_json
from ledger.registry.model import UnitBlock
from tests.fakes import FakeUnitOfWork

ACCOUNTS = {"THA01-GOV": "THA", "JPN01-GOV": "JPN", "JPN01-NDC": "JPN"}


def block(
    block_id: int, first: int, last: int, ca_id: str = "CA0001", vintage: int = 2021
) -> UnitBlock:
    return UnitBlock(block_id, solar("THA01", "THA", ca_id, vintage), first, last, "JPN01-GOV")


def entry(seq: int, kind: str, blocks: list[UnitBlock], **payload: JsonValue) -> Entry:
    body: dict[str, JsonValue] = {
        "blocks": [to_json(b) for b in blocks],
        "acted": [b.block_id for b in blocks],
        **payload,
    }
    return Entry(seq, kind, datetime(2026, 3, 1, tzinfo=UTC), "test", b"\0" * 32, body)


def flows(*entries: Entry) -> list[Flow]:
    return international_flows(entries, ACCOUNTS.get)


def test_a_transfer_and_its_acquisition_are_one_flow_by_approach_and_vintage() -> None:
    moved = [block(1, 1, 10), block(2, 11, 15), block(3, 1, 4, "CA0009", 2022)]
    found = flows(
        entry(
            7,
            "itmo.first_transfer",
            moved,
            international=True,
            from_account="THA01-GOV",
            to_account="JPN01-GOV",
            acquiring_party="JPN",
            action_date="2025-11-30",
        ),
        entry(8, "itmo.acquisition", moved, transferring_party="THA", to_account="JPN01-GOV"),
    )
    assert found == [
        Flow(7, date(2025, 11, 30), "THA", "JPN", "CA0001", 2021, 15),
        Flow(7, date(2025, 11, 30), "THA", "JPN", "CA0009", 2022, 4),
    ]
    assert found[0].year == 2025


def test_an_acquisition_from_an_external_registry_is_a_flow() -> None:
    found = flows(
        entry(
            3,
            "itmo.acquisition",
            [block(1, 1, 5)],
            transferring_party="CHE",
            to_account="JPN01-GOV",
        )
    )
    assert found == [Flow(3, date(2026, 3, 1), "CHE", "JPN", "CA0001", 2021, 5)]


def test_domestic_moves_and_unknown_accounts_are_no_flows() -> None:
    units = [block(1, 1, 5)]
    assert (
        flows(
            entry(
                1,
                "itmo.transfer",
                units,
                international=False,
                from_account="JPN01-GOV",
                to_account="JPN01-NDC",
                acquiring_party=None,
            ),
            entry(
                2,
                "itmo.transfer",
                units,
                international=True,
                from_account="XXX01-GOV",
                to_account="JPN01-GOV",
                acquiring_party="JPN",
            ),
            entry(
                3,
                "itmo.first_transfer",
                units,
                international=True,
                from_account="THA01-GOV",
                to_account="THA01-GOV",
                acquiring_party=None,
            ),
            entry(4, "itmo.acquisition", units, transferring_party="CHE", to_account="ZZZ01-GOV"),
            entry(5, "itmo.use", units),
        )
        == []
    )


def test_the_demo_has_one_flow_from_thailand_to_japan() -> None:
    uow = FakeUnitOfWork()
    with uow:
        load_demo(uow)
        uow.commit()
    found = flows_for(uow, uow.log.size())
    assert [(f.from_party, f.to_party, f.ca_id, f.quantity) for f in found] == [
        ("THA", "JPN", "CA0001", 1009)
    ]
    assert flows_for(uow, 29) == []  # before the first transfer
    with pytest.raises(TreeSizeBeyondLog):
        flows_for(uow, uow.log.size() + 1)
