"""API tokens as ledger records, on the in-memory unit of work (no database)."""

from __future__ import annotations

import pytest

from ledger.access import (
    KIND_TOKEN_CREATED,
    KIND_TOKEN_REVOKED,
    InvalidTokenRequest,
    Role,
    TokenAlreadyRevoked,
    hash_secret,
    issue_token,
    parse_token,
    verify_token,
    withdraw_token,
)
from ledger.log.chain import Entry
from tests.fakes import FakeUnitOfWork


def kinds(uow: FakeUnitOfWork) -> list[str]:
    return [Entry.from_canonical(b).kind for b in uow.log.read_entries(0, uow.log.size())]


def test_an_issued_token_verifies_until_it_is_revoked() -> None:
    uow = FakeUnitOfWork()
    with uow:
        principal, token = issue_token(uow, "jp", Role.registry, "JPN01", actor="test")
        uow.commit()
    assert verify_token(uow, token) == principal
    assert principal.registry_id == "JPN01"
    with uow:
        info = withdraw_token(uow, principal.token_id, actor="test")
        uow.commit()
    assert info.revoked
    assert verify_token(uow, token) is None
    assert kinds(uow) == [KIND_TOKEN_CREATED, KIND_TOKEN_REVOKED]
    with uow, pytest.raises(TokenAlreadyRevoked):
        withdraw_token(uow, principal.token_id, actor="test")


def test_the_secret_is_stored_only_as_its_hash() -> None:
    uow = FakeUnitOfWork()
    with uow:
        principal, token = issue_token(uow, "ops", Role.admin, actor="test")
        uow.commit()
    stored = uow.tokens.get(principal.token_id)
    parsed = parse_token(token)
    assert stored is not None
    assert parsed is not None
    assert stored.secret_hash == hash_secret(parsed[1])
    assert verify_token(uow, token[:-1] + ("A" if token[-1] != "A" else "B")) is None


def test_a_refused_token_records_nothing() -> None:
    uow = FakeUnitOfWork()
    with uow, pytest.raises(InvalidTokenRequest):
        issue_token(uow, "ops", Role.admin, "JPN01", actor="test")
    assert uow.log.size() == 0
    assert uow.tokens.all() == []


def test_an_uncommitted_token_is_rolled_back() -> None:
    uow = FakeUnitOfWork()
    with uow:
        _, token = issue_token(uow, "ops", Role.auditor, actor="test")
    assert verify_token(uow, token) is None
    assert uow.log.size() == 0
