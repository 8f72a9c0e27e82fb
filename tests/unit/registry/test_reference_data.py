"""Reference data use cases on the in-memory fakes: Parties and NDCs, registries, cooperative
approaches, accounts and OIMP first-transfer definitions."""

from __future__ import annotations

from dataclasses import replace

from ledger.errors import (
    AccountTypeMismatch,
    AlreadyRegistered,
    CooperativeApproachNotFound,
    FirstTransferDefinitionConflict,
    InvalidInput,
    NdcAlreadyDeclared,
    PartyNotFound,
)
from ledger.log.chain import verify_chain
from ledger.registry import services
from ledger.registry.model import (
    Account,
    AccountType,
    CooperativeApproach,
    FirstTransferDefinition,
    Party,
    Registry,
)
from tests.fakes import FakeUnitOfWork
from tests.registry_world import ADMIN, NDC_2021_2030, NOW, at, build_world
from tests.unit.registry.in_memory import act, assert_refused, entries, kinds_since


def test_the_world_is_one_entry_per_record_on_a_valid_chain() -> None:
    uow = FakeUnitOfWork(at(NOW))
    act(uow, build_world)
    kinds = [e.kind for e in entries(uow)]
    assert kinds.count("party.registered") == 4
    assert kinds.count("registry.registered") == 4
    assert kinds.count("cooperative_approach.registered") == 3
    # 3 hosted registries x 5 accounts, THA01-PP, THA01-AF, and the Swiss registry's holding.
    assert kinds.count("account.opened") == 18
    assert len(kinds) == uow.log.size() == 29
    assert verify_chain(uow.log.read_entries(0, 29)) is None
    assert [p.code for p in uow.projection.parties()] == ["CHE", "JPN", "MNG", "THA"]
    external = uow.projection.get_account("CHE01-EXTERNAL")
    assert external is not None
    assert (external.registry_id, external.account_type) == ("CHE01", AccountType.HOLDING)


def test_an_ndc_is_declared_once(uow: FakeUnitOfWork) -> None:
    start = uow.log.size()
    act(uow, lambda u: services.declare_ndc(u, "CHE", NDC_2021_2030, ADMIN))
    assert kinds_since(uow, start) == ["ndc.declared"]
    party = uow.projection.get_party("CHE")
    assert party is not None
    assert party.declarations == (NDC_2021_2030,)
    assert_refused(
        uow,
        lambda u: services.declare_ndc(
            u, "CHE", replace(NDC_2021_2030, period_end=2035, target_year=2035), ADMIN
        ),
        NdcAlreadyDeclared,
        "ndc-declared-once",
    )


def test_refused_reference_data_leaves_the_ledger_unchanged(uow: FakeUnitOfWork) -> None:
    assert_refused(
        uow,
        lambda u: services.register_party(u, Party("JPN", "Japan again"), ADMIN),
        AlreadyRegistered,
        "unique-identifier",
    )
    assert_refused(
        uow,
        lambda u: services.register_party(u, Party("jp", "Japan"), ADMIN),
        InvalidInput,
        "invalid-input",
    )
    assert_refused(
        uow,
        lambda u: services.register_registry(u, Registry("KOR01", "KOR", "Korea", True), ADMIN),
        PartyNotFound,
        "party-registered",
    )
    assert_refused(
        uow,
        lambda u: services.register_cooperative_approach(
            u, CooperativeApproach("CA0009", "Japan alone", ("JPN", "JPN")), ADMIN
        ),
        InvalidInput,
        "invalid-input",
    )
    assert_refused(
        uow,
        lambda u: services.open_account(
            u, Account("CHE01-GOV", "CHE01", AccountType.HOLDING, "Swiss"), ADMIN
        ),
        AccountTypeMismatch,
        "account-type",
    )
    assert_refused(
        uow,
        lambda u: services.declare_first_transfer_definition(
            u, "MNG", "CA0009", FirstTransferDefinition.ISSUANCE, ADMIN
        ),
        CooperativeApproachNotFound,
        "cooperative-approach-registered",
    )


def test_one_first_transfer_definition_per_party_and_approach(uow: FakeUnitOfWork) -> None:
    def declare(definition: FirstTransferDefinition) -> object:
        return act(
            uow,
            lambda u: services.declare_first_transfer_definition(
                u, "MNG", "CA0002", definition, ADMIN
            ),
        )

    start = uow.log.size()
    assert declare(FirstTransferDefinition.ISSUANCE) is not None
    assert declare(FirstTransferDefinition.ISSUANCE) is None  # the same again: nothing recorded
    assert kinds_since(uow, start) == ["first_transfer_definition.declared"]
    assert_refused(
        uow,
        lambda u: services.declare_first_transfer_definition(
            u, "MNG", "CA0002", FirstTransferDefinition.AUTHORIZATION, ADMIN
        ),
        FirstTransferDefinitionConflict,
        "first-transfer-definition-consistent",
    )
