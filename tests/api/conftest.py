"""Fixtures for every API test: settings on the per-test database, the app, a started client, and
a factory of bearer tokens by role.

To mount test-only routes, override ``app`` in a test module::

    @pytest.fixture
    def app(app: FastAPI) -> FastAPI:
        app.include_router(test_router)
        return app
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.main import create_app
from app.settings import Environment, Settings
from ledger.access import Principal, Role, create_token
from ledger.adapters.sql.uow import SqlStorage


@pytest.fixture
def app_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        environment=Environment.test,
        database_url=database_url,
        signer_key_path=tmp_path / "signer.key",
        checkpoint_state_path=tmp_path / "last-signed-checkpoint",
        log_origin="a6ledger.test/log",
        auto_setup=True,
    )


@pytest.fixture
def app(app_settings: Settings) -> FastAPI:
    return create_app(app_settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A client whose app has run its lifespan (migrations, signer key, database check)."""
    with TestClient(app) as test_client:
        yield test_client


@dataclass(frozen=True)
class IssuedToken:
    principal: Principal
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class TokenFactory:
    """``tokens("admin")`` or ``tokens("registry", "JPN01")`` returns ``Authorization`` headers;
    ``tokens.issue(...)`` returns the principal and token text as well."""

    storage: SqlStorage
    issued: list[IssuedToken] = field(default_factory=list)

    def issue(
        self, role: Role | str, registry_id: str | None = None, name: str | None = None
    ) -> IssuedToken:
        role = Role(role)
        label = name or f"test {role.value} {registry_id or ''}".strip()
        principal, token = create_token(self.storage, label, role, registry_id, actor="test")
        issued = IssuedToken(principal, token)
        self.issued.append(issued)
        return issued

    def __call__(
        self, role: Role | str, registry_id: str | None = None, name: str | None = None
    ) -> dict[str, str]:
        return self.issue(role, registry_id, name).headers


@pytest.fixture
def storage(engine: Engine) -> SqlStorage:
    """The test database as the service's storage (the app has its own engine on it)."""
    return SqlStorage(engine)


@pytest.fixture
def tokens(storage: SqlStorage) -> TokenFactory:
    return TokenFactory(storage)


# The JCM scenario fixture (parties, registries, accounts and tokens), shared by API tests.
# The 2025 JCM world with the Maldives, for the tests of action dates and year-scoped reports.
from tests.api.jcm2025 import jcm2025  # noqa: E402, F401
from tests.api.scenario import jcm  # noqa: E402, F401

# Two instances on two databases, each a witness of the other (mutual witnessing, reconciliation).
from tests.api.two_instances import pair  # noqa: E402, F401
