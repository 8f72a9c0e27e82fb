"""Two a6ledger instances in one test: Japan's and Thailand's registries, each on its own
database (two SQLite files, or two PostgreSQL databases made and dropped by the test), with its
own log key and witness key, each a witness of the other's log and configured as the other's
reconciliation counterpart (with a reconciler token on the other's database).

Their apps run in-process (``TestClient``), so what one sends the other (``witness push``)
goes through the real HTTP stack of the other without a network, and coverage counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.keys import write_signer_key
from app.main import create_app
from app.settings import CounterpartSetting, Environment, PartnerWitnessSetting, Settings
from ledger.access import create_token
from ledger.adapters.sql.uow import SqlStorage
from ledger.log.tlog_cosignature import Cosigner
from tests.conftest import DatabaseFactory


@dataclass
class Instance:
    """One running instance: its settings, its in-process client and its storage."""

    name: str
    settings: Settings
    client: TestClient
    storage: SqlStorage
    log_vkey: str
    witness_vkey: str

    @property
    def origin(self) -> str:
        return self.settings.log_origin

    @property
    def witness_url(self) -> str:
        return f"http://{self.name}.test/v1/witness"

    def grow(self, entries: int) -> int:
        """Append ``entries`` entries (API token issues); return the log's size."""
        for number in range(entries):
            create_token(self.storage, f"{self.name} {number}", "auditor", actor="test")
        with self.storage.unit_of_work(write=False) as uow:
            return uow.log.size()


@dataclass(frozen=True)
class Keys:
    """An instance's key files and verifier keys, made before either instance starts."""

    name: str
    directory: Path
    log_vkey: str
    witness_vkey: str

    @classmethod
    def make(cls, root: Path, name: str, origin: str) -> Keys:
        directory = root / name
        log_vkey = write_signer_key(directory / "signer.key", origin)
        write_signer_key(directory / "witness.key", f"{name}.test/witness")
        skey = (directory / "witness.key").read_text(encoding="ascii").strip()
        return cls(name, directory, log_vkey, Cosigner(skey).vkey)


def instance_settings(
    database_url: str, keys: Keys, origin: str, partner: Keys, partner_token: str
) -> Settings:
    return Settings(
        environment=Environment.test,
        database_url=database_url,
        log_origin=origin,
        signer_key_path=keys.directory / "signer.key",
        checkpoint_state_path=keys.directory / "last-signed-checkpoint",
        witness_signer_key_path=keys.directory / "witness.key",
        witness_name=f"{keys.name}.test/witness",
        witnessed_logs=[partner.log_vkey],
        witness_partners=[
            PartnerWitnessSetting(
                url=f"http://{partner.name}.test/v1/witness", vkey=partner.witness_vkey
            )
        ],
        counterparts=[
            CounterpartSetting(
                party=partner.name.upper(),
                url=f"http://{partner.name}.test",
                vkey=partner.log_vkey,
                token=partner_token,
            )
        ],
        auto_setup=True,
    )


def reconciler_token(database_url: str, name: str) -> str:
    """A reconciler token on an instance's database, made before it starts: its partner
    configures it to read the entries."""
    storage = SqlStorage.open(database_url)
    try:
        return create_token(storage, f"{name} reconciler", "reconciler", actor="test")[1]
    finally:
        storage.dispose()


JPN_ORIGIN = "registry.example.jp/log"
THA_ORIGIN = "registry.example.th/log"


@pytest.fixture
def pair(
    database_url: str, database_factory: DatabaseFactory, tmp_path: Path
) -> Iterator[tuple[Instance, Instance]]:
    """Japan's instance on the test database and Thailand's on a second one, each witnessing
    the other."""
    second_url = database_factory.create()
    jpn_keys = Keys.make(tmp_path, "jpn", JPN_ORIGIN)
    tha_keys = Keys.make(tmp_path, "tha", THA_ORIGIN)
    jpn_token = reconciler_token(database_url, "tha")
    tha_token = reconciler_token(second_url, "jpn")
    jpn_settings = instance_settings(database_url, jpn_keys, JPN_ORIGIN, tha_keys, tha_token)
    tha_settings = instance_settings(second_url, tha_keys, THA_ORIGIN, jpn_keys, jpn_token)
    jpn_storage = SqlStorage.open(database_url)
    tha_storage = SqlStorage.open(second_url)
    try:
        with (
            TestClient(create_app(jpn_settings), base_url="http://jpn.test") as jpn_client,
            TestClient(create_app(tha_settings), base_url="http://tha.test") as tha_client,
        ):
            # Each reads the other in-process (reconciliation's requests to its counterpart,
            # the signing guard's question to its witness).
            jpn_client.app.state.counterpart_client = tha_client  # type: ignore[attr-defined]
            tha_client.app.state.counterpart_client = jpn_client  # type: ignore[attr-defined]
            jpn_client.app.state.witness_client = tha_client  # type: ignore[attr-defined]
            tha_client.app.state.witness_client = jpn_client  # type: ignore[attr-defined]
            yield (
                Instance(
                    "jpn",
                    jpn_settings,
                    jpn_client,
                    jpn_storage,
                    jpn_keys.log_vkey,
                    jpn_keys.witness_vkey,
                ),
                Instance(
                    "tha",
                    tha_settings,
                    tha_client,
                    tha_storage,
                    tha_keys.log_vkey,
                    tha_keys.witness_vkey,
                ),
            )
    finally:
        jpn_storage.dispose()
        tha_storage.dispose()
        database_factory.drop(second_url)
