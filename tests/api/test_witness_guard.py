"""The signing guard asks the partner witnesses (docs/architecture.md, "Signed checkpoints across
replicas"), with two instances on two databases: a host of Japan's log whose database was
restored behind a tree Thailand's witness cosigned refuses to sign and is not ready, naming the
witness, although its own table and file remember nothing larger; so does one whose history was
rewritten past it. A silent witness stops signing only when required."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from app.cli_witness import push_to_partners
from app.main import create_app
from app.settings import PartnerWitnessSetting, Settings
from ledger.access import create_token
from ledger.adapters.sql.uow import SqlStorage
from ledger.log import keys
from ledger.log.tlog_cosignature import Cosigner
from tests.api.two_instances import Instance
from tests.conftest import DatabaseFactory

PROBLEM = "urn:a6ledger:problem:"


def grow(database_url: str, entries: int) -> None:
    storage = SqlStorage.open(database_url)
    try:
        for number in range(entries):
            create_token(storage, f"restored {number}", "auditor", actor="test")
    finally:
        storage.dispose()


def new_host(instance: Instance, tmp_path: Path, **changes: object) -> Settings:
    """The instance's settings on a new host: its own (empty) file of signed trees."""
    return instance.settings.model_copy(
        update={"checkpoint_state_path": tmp_path / "new-host-state", **changes}
    )


def test_a_database_restored_behind_a_witnessed_tree_is_refused(
    pair: tuple[Instance, Instance], database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    jpn, tha = pair
    size = jpn.grow(3)
    (pushed,) = push_to_partners(jpn.settings, tha.client)
    assert pushed.cosigned, pushed.detail
    assert pushed.tree_size == size
    assert jpn.client.get("/readyz").status_code == 200

    restored_url = database_factory.create()
    try:
        grow(restored_url, 1)
        with TestClient(create_app(new_host(jpn, tmp_path, database_url=restored_url))) as host:
            host.app.state.witness_client = tha.client  # type: ignore[attr-defined]
            ready = host.get("/readyz")
            assert ready.status_code == 503
            witness = f"tha.test/witness+{int(tha.witness_vkey.split('+')[1], 16):08x}"
            assert ready.json()["detail"] == (
                f"witness {witness} cosigned tree size {size} of this log but the stored log "
                "holds 1 entries: the database went back behind a published tree; refusing to "
                "sign; restore it and run `a6ledger verify-db`"
            )
            refused = host.get("/v1/log/checkpoint")
            assert refused.status_code == 503
            assert refused.json()["type"] == PROBLEM + "witnessed-tree-missing"

            grow(restored_url, size)  # rewritten past the witnessed tree: another root there
            ready = host.get("/readyz")
            assert ready.status_code == 503
            assert "another root at that size: the history was rewritten" in ready.text
            assert host.get("/v1/log/checkpoint").status_code == 503
        # The instance whose database holds the witnessed tree still signs.
        assert jpn.client.get("/v1/log/checkpoint").status_code == 200
    finally:
        database_factory.drop(restored_url)


def test_a_silent_witness_stops_signing_only_when_required(app_settings: Settings) -> None:
    witness_vkey = Cosigner(keys.generate_signer("silent.test/witness")[0]).vkey

    def silent(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    for required, status in ((False, 200), (True, 503)):
        partner = PartnerWitnessSetting(
            url="http://silent.test/v1/witness", vkey=witness_vkey, required=required
        )
        settings = app_settings.model_copy(update={"witness_partners": [partner]})
        with (
            TestClient(create_app(settings)) as host,
            httpx.Client(transport=httpx.MockTransport(silent)) as client,
        ):
            host.app.state.witness_client = client  # type: ignore[attr-defined]
            assert host.get("/readyz").status_code == status
            assert host.get("/v1/log/checkpoint").status_code == status
            if required:
                detail = host.get("/readyz").json()["detail"]
                assert detail.startswith("required witness silent.test/witness+")
