"""API tokens as ledger records (``ledger.access``) on both databases: token text, the role
binding, issuing, revoking and listing, each recorded in the ledger."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from ledger.access import (
    InvalidTokenRequest,
    Role,
    TokenAlreadyRevoked,
    TokenNotFound,
    create_token,
    format_token,
    list_tokens,
    parse_token,
    revoke_token,
)
from ledger.adapters.sql.orm_api import TOKEN_ROLES
from ledger.adapters.sql.uow import SqlStorage
from ledger.log.chain import Entry


@pytest.fixture
def storage(engine: Engine) -> SqlStorage:
    return SqlStorage(engine)


def ledger_size(storage: SqlStorage) -> int:
    with storage.unit_of_work(write=False) as uow:
        return uow.log.size()


def ledger_entries(storage: SqlStorage) -> list[Entry]:
    with storage.unit_of_work(write=False) as uow:
        return [Entry.from_canonical(b) for b in uow.log.read_entries(0, uow.log.size())]


def test_roles_match_the_database_constraint() -> None:
    assert tuple(role.value for role in Role) == TOKEN_ROLES


def test_token_text_round_trips_and_hides_nothing_in_the_id(storage: SqlStorage) -> None:
    principal, token = create_token(storage, "ops", Role.admin)
    parsed = parse_token(token)
    assert parsed is not None
    token_id, secret = parsed
    assert token_id == principal.token_id
    assert token == format_token(token_id, secret)
    assert token.startswith("a6l_tok_")
    assert len(secret) == 43  # 32 bytes, unpadded URL-safe base64
    assert parse_token(token + "x") is None
    assert parse_token(token.replace("a6l_", "a6x_")) is None


@pytest.mark.parametrize(
    ("role", "registry_id"),
    [
        ("registry", None),
        ("registry", "jpn01"),
        ("registry", "JPN1"),
        ("admin", "JPN01"),
        ("auditor", "JPN01"),
        ("superuser", None),
    ],
)
def test_create_token_enforces_the_role_binding(
    storage: SqlStorage, role: str, registry_id: str | None
) -> None:
    with pytest.raises(InvalidTokenRequest):
        create_token(storage, "bad", role, registry_id)
    assert list_tokens(storage) == []
    assert ledger_size(storage) == 0


def test_create_token_refuses_an_empty_name(storage: SqlStorage) -> None:
    with pytest.raises(InvalidTokenRequest):
        create_token(storage, "", Role.admin)


def test_revoke_unknown_or_twice_is_refused(storage: SqlStorage) -> None:
    principal, _ = create_token(storage, "ops", Role.auditor)
    with pytest.raises(TokenNotFound):
        revoke_token(storage, "tok_aaaaaaaaaaaa")
    info = revoke_token(storage, principal.token_id)
    assert info.revoked
    with pytest.raises(TokenAlreadyRevoked):
        revoke_token(storage, principal.token_id)
    assert [entry.kind for entry in ledger_entries(storage)] == ["token.created", "token.revoked"]


def test_list_tokens_shows_roles_and_revocation(storage: SqlStorage) -> None:
    admin, _ = create_token(storage, "ops", Role.admin)
    registry, _ = create_token(storage, "jp registry", Role.registry, "JPN01")
    revoke_token(storage, admin.token_id)
    listed = {info.token_id: info for info in list_tokens(storage)}
    assert listed[admin.token_id].revoked
    assert listed[admin.token_id].role is Role.admin
    assert not listed[registry.token_id].revoked
    assert listed[registry.token_id].registry_id == "JPN01"
    assert listed[registry.token_id].name == "jp registry"
