"""AEF Table 3 rows mapped to the actions they record, on the in-memory registry world
(``tests.registry_world``): the accounts found from the units and the Party, the rows that
record nothing more, and the rows refused because the table lacks a fact."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from ledger.accounting import aef
from ledger.errors import LedgerError
from ledger.imports import table3_rows
from ledger.imports.aef_table3 import Table3Action, row_date
from ledger.ports import UnitOfWork
from ledger.registry import services
from ledger.registry.dating import Dating
from ledger.registry.model import FirstTransferDefinition, Purpose
from tests.fakes import FakeUnitOfWork
from tests.registry_world import ADMIN, NOW, at, authorization, build_world, entity, issuance
from tests.unit.registry.in_memory import act

ON = NOW.date()


@pytest.fixture
def uow() -> FakeUnitOfWork:
    """The world, with 100 Thai units issued into THA01-GOV: serials 1-60 under the NDC
    authorization THA-1, 61-100 not authorized."""
    fake = FakeUnitOfWork(at(NOW))
    act(fake, build_world)

    def issue(uow: UnitOfWork) -> None:
        services.record_authorization(uow, authorization("THA-1"), ADMIN)
        services.issue(uow, issuance(("THA01-GOV", 60, "THA-1"), ("THA01-GOV", 40, None)), ADMIN)

    act(fake, issue)
    return fake


def action_row(action_type: aef.ActionType, first: int, last: int, **fields: Any) -> aef.ActionRow:
    values: dict[str, Any] = {
        "action_date": ON,
        "action_type": action_type,
        "cooperative_approach_id": "CA0001",
        "authorization_id": "THA-1",
        "first_transferring_party_id": "THA",
        "registry_id": "THA01",
        "first_id": first,
        "last_id": last,
        "metric": aef.Metric.GHG,
        "gwp_values": "AR5",
        "quantity": last - first + 1,
        "mitigation_type": aef.MitigationType.EMISSION_REDUCTIONS,
        "vintage": 2021,
    }
    return aef.ActionRow(**(values | fields))


def run(uow: FakeUnitOfWork, row: aef.ActionRow, party: str = "THA") -> int:
    """Apply the row; the number of entries it appended."""
    before = uow.log.size()
    act(uow, lambda u: Table3Action(party, row, Dating(row_date(row)))(u, ADMIN))
    return uow.log.size() - before


def refused(uow: FakeUnitOfWork, row: aef.ActionRow, party: str = "THA") -> LedgerError:
    before = uow.log.size()
    with pytest.raises(LedgerError) as raised:
        run(uow, row, party)
    assert uow.log.size() == before
    return raised.value


def holder(uow: FakeUnitOfWork, serial: int) -> str:
    key = ("CA0001", "THA01", "THA", 2021)
    (block,) = uow.projection.overlapping_blocks(key, serial, serial)
    return block.account_id


def test_rows_are_numbered_in_table_order_and_dated_by_their_action_date() -> None:
    moment = datetime(2025, 11, 11, 23, 30, tzinfo=UTC)
    rows = [
        action_row(aef.ActionType.TRANSFER, 1, 5, action_date=moment, acquiring_party_id="JPN"),
        action_row(aef.ActionType.AUTHORIZATION, 6, 9),
    ]
    found = table3_rows("THA", rows, end_of_period_btr_after=2)
    assert [(r.row, r.action, r.action_date) for r in found] == [
        (1, "Table 3 Transfer", date(2025, 11, 11)),
        (2, "Table 3 Authorization", ON),
    ]
    assert found[0].digest != found[1].digest


def test_an_authorization_row_binds_the_units_unless_issued_under_it(
    uow: FakeUnitOfWork,
) -> None:
    assert run(uow, action_row(aef.ActionType.AUTHORIZATION, 1, 60)) == 0
    assert run(uow, action_row(aef.ActionType.AUTHORIZATION, 61, 70)) == 1
    assert uow.projection.authorized_quantity("THA-1") == 70


def test_a_first_transfer_goes_to_the_acquiring_partys_only_holding_account(
    uow: FakeUnitOfWork,
) -> None:
    first = aef.ActionSubtype.FIRST_TRANSFER_TO_ANOTHER_PARTY
    row = action_row(
        aef.ActionType.FIRST_TRANSFER, 1, 10, action_subtype=first, acquiring_party_id="JPN"
    )
    assert run(uow, row) == 2  # the first transfer, and Japan's acquisition
    assert holder(uow, 5) == "JPN01-GOV"
    error = refused(uow, action_row(aef.ActionType.TRANSFER, 11, 12))
    assert error.rule == "aef-table3-importable"
    to_thailand = action_row(aef.ActionType.TRANSFER, 1, 2, acquiring_party_id="THA")
    assert refused(uow, to_thailand, party="JPN").rule == "aef-table3-account"


def test_a_transfer_to_the_adaptation_fund_goes_to_its_only_account(uow: FakeUnitOfWork) -> None:
    fund = aef.ActionSubtype.VOLUNTARY_TRANSFER_TO_ADAPTATION_FUND
    assert run(uow, action_row(aef.ActionType.FIRST_TRANSFER, 1, 3, action_subtype=fund)) == 1
    assert holder(uow, 2) == "THA01-AF"


def test_an_oimp_first_transfer_row_is_recorded_by_its_event(uow: FakeUnitOfWork) -> None:
    row = action_row(aef.ActionType.FIRST_TRANSFER, 1, 3, action_subtype=aef.ActionSubtype.ISSUANCE)
    assert run(uow, row) == 0


@pytest.mark.parametrize(
    ("action_type", "subtype", "account"),
    [
        (aef.ActionType.CANCELLATION, None, "THA01-CANCEL"),
        (aef.ActionType.CANCELLATION, aef.ActionSubtype.OTHER_CANCELLATIONS, "THA01-CANCEL"),
        (aef.ActionType.VOLUNTARY_CANCELLATION, None, "THA01-OMGE"),
        (
            aef.ActionType.CANCELLATION,
            aef.ActionSubtype.VOLUNTARY_CANCELLATION_OMGE,
            "THA01-OMGE",
        ),
    ],
)
def test_cancellations_go_to_the_partys_account_of_their_kind(
    uow: FakeUnitOfWork,
    action_type: aef.ActionType,
    subtype: aef.ActionSubtype | None,
    account: str,
) -> None:
    run(uow, action_row(action_type, 1, 4, action_subtype=subtype))
    assert holder(uow, 1) == account


def test_an_ndc_use_goes_to_the_partys_only_ndc_use_account(uow: FakeUnitOfWork) -> None:
    first = aef.ActionSubtype.FIRST_TRANSFER_TO_ANOTHER_PARTY
    to_japan = action_row(
        aef.ActionType.FIRST_TRANSFER, 1, 10, action_subtype=first, acquiring_party_id="JPN"
    )
    run(uow, to_japan)
    assert run(uow, action_row(aef.ActionType.USE, 1, 4, ndc_use_year=2026), party="JPN") == 1
    assert holder(uow, 1) == "JPN01-NDC"
    assert refused(uow, action_row(aef.ActionType.USE, 5, 6), party="JPN").details == {
        "column": "Purpose for which the ITMO has been used towards or cancelled for OIMP"
    }


def test_an_oimp_use_names_its_entity_by_identification_number(uow: FakeUnitOfWork) -> None:
    def oimp(u: UnitOfWork) -> None:
        services.record_authorized_entity(u, entity("E-1", "CA0001", "THA"), ADMIN)
        services.record_authorization(
            u,
            authorization(
                "THA-2",
                purposes=Purpose.OIMP,
                oimp_authorized="CORSIA",
                first_transfer_definition=FirstTransferDefinition.USE_OR_CANCELLATION,
                authorized_entities=("E-1",),
            ),
            ADMIN,
        )
        services.issue(u, issuance(("THA01-GOV", 10, "THA-2"), vintage=2022), ADMIN)

    act(uow, oimp)
    use = action_row(
        aef.ActionType.USE,
        1,
        5,
        authorization_id="THA-2",
        vintage=2022,
        oimp_purpose="CORSIA",
        using_entity_id="ID-E-1",
    )
    assert run(uow, use) == 2  # the first transfer it fires, and the use
    unknown = action_row(
        aef.ActionType.USE,
        6,
        7,
        authorization_id="THA-2",
        vintage=2022,
        oimp_purpose="CORSIA",
        using_entity_id="nobody",
    )
    assert refused(uow, unknown).details["identification"] == "nobody"


def test_an_acquisition_row_checks_the_transfer_recorded_it(uow: FakeUnitOfWork) -> None:
    acquired = action_row(aef.ActionType.ACQUISITION, 1, 10, transferring_party_id="THA")
    assert refused(uow, acquired, party="JPN").rule == "acquisition-recorded-by-transfer"
    first = aef.ActionSubtype.FIRST_TRANSFER_TO_ANOTHER_PARTY
    run(
        uow,
        action_row(
            aef.ActionType.FIRST_TRANSFER, 1, 10, action_subtype=first, acquiring_party_id="JPN"
        ),
    )
    assert run(uow, acquired, party="JPN") == 0
    swiss = action_row(
        aef.ActionType.ACQUISITION,
        1,
        5,
        registry_id="CHE01",
        first_transferring_party_id="CHE",
        transferring_party_id="CHE",
    )
    assert refused(uow, swiss, party="JPN").rule == "aef-table3-importable"


def test_units_not_on_the_ledger_or_not_the_partys_are_refused(uow: FakeUnitOfWork) -> None:
    assert refused(uow, action_row(aef.ActionType.TRANSFER, 90, 120)).rule == (
        "serial-held-by-account"
    )
    use = action_row(aef.ActionType.USE, 1, 2, ndc_use_year=2026)
    assert refused(uow, use, party="JPN").rule == "serial-held-by-account"
