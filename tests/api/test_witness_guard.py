"""The signing guard asks the partner witnesses (docs/architecture.md, "Signed checkpoints across
replicas"), with two instances on two databases: a host of Japan's log whose database was
restored behind a tree Thailand's witness cosigned refuses to sign and is not ready, naming the
witness, although its own table and file remember nothing larger; so does one whose history was
rewritten past it. A silent witness stops signing only when required. The signing commands
(``witness push``, ``export``) ask too and refuse alike, in one line naming the witness."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app import settings as app_settings
from app import witness_check
from app.cli import main
from app.cli_witness import push_to_partners
from app.main import create_app
from app.settings import PartnerWitnessSetting, Settings
from ledger.access import create_token
from ledger.adapters.sql.uow import SqlStorage
from ledger.log import keys
from ledger.log.tlog_cosignature import Cosigner
from ledger.log.witnessed_trees import WitnessedTreeMissing
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


def through(client: TestClient) -> Callable[[float], httpx.Client]:
    """A stand-in for ``app.witness_check.witness_client``: a client of its own (the command
    closes it) whose requests go to ``client``'s app in-process."""

    def forward(request: httpx.Request) -> httpx.Response:
        answer = client.send(request)
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    return lambda timeout: httpx.Client(transport=httpx.MockTransport(forward), timeout=timeout)


def run_command(
    argv: list[str],
    settings: Settings,
    witness: Callable[[float], httpx.Client],
    monkeypatch: pytest.MonkeyPatch,
) -> int:
    """``a6ledger ARGV`` with ``settings`` and the partner witnesses reached through
    ``witness``."""
    with monkeypatch.context() as patched:
        patched.setattr(app_settings, "get_settings", lambda: settings)
        patched.setattr(witness_check, "witness_client", witness)
        return main(argv)


def errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if not line.startswith("a6ledger: database ")]


def test_the_signing_commands_refuse_a_database_restored_behind_a_witnessed_tree(
    pair: tuple[Instance, Instance],
    database_factory: DatabaseFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``witness push`` and ``export`` ask the partner witnesses before they sign, as the
    service does, and refuse with the service's reason: one line naming the witness."""
    jpn, tha = pair
    size = jpn.grow(3)
    (pushed,) = push_to_partners(jpn.settings, tha.client)
    assert pushed.cosigned, pushed.detail
    witness = f"tha.test/witness+{int(tha.witness_vkey.split('+')[1], 16):08x}"
    behind = (
        f"error: witness {witness} cosigned tree size {size} of this log but the stored log "
        "holds 1 entries: the database went back behind a published tree; refusing to sign; "
        "restore it and run `a6ledger verify-db`"
    )
    restored_url = database_factory.create()
    try:
        grow(restored_url, 1)
        host = new_host(jpn, tmp_path, database_url=restored_url)
        with pytest.raises(WitnessedTreeMissing):
            push_to_partners(host, tha.client)
        capsys.readouterr()
        assert run_command(["witness", "push"], host, through(tha.client), monkeypatch) == 2
        out, err = capsys.readouterr()
        assert (out, errors(err)) == ("", [behind])
        out_file = tmp_path / "export.zip"
        assert (
            run_command(["export", "--out", str(out_file)], host, through(tha.client), monkeypatch)
            == 1
        )
        out, err = capsys.readouterr()
        assert (out, errors(err)) == ("", [behind])
        assert not out_file.exists()

        grow(restored_url, size)  # rewritten past the witnessed tree: another root there
        assert run_command(["witness", "push"], host, through(tha.client), monkeypatch) == 2
        assert "another root at that size: the history was rewritten" in capsys.readouterr().err
        assert (
            run_command(["export", "--out", str(out_file)], host, through(tha.client), monkeypatch)
            == 1
        )
        assert "another root at that size: the history was rewritten" in capsys.readouterr().err
        assert not out_file.exists()
    finally:
        database_factory.drop(restored_url)
    with tha.storage.unit_of_work(write=False) as uow:
        latest = uow.witnessed.latest(jpn.origin)
    assert latest is not None
    assert latest.tree_size == size  # nothing was pushed
    # The instance whose database holds the witnessed tree still exports and pushes.
    assert (
        run_command(
            ["export", "--out", str(out_file)], jpn.settings, through(tha.client), monkeypatch
        )
        == 0
    )
    assert run_command(["witness", "push"], jpn.settings, through(tha.client), monkeypatch) == 0


def test_a_silent_witness_stops_the_signing_commands_only_when_required(
    pair: tuple[Instance, Instance],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    jpn, _ = pair
    jpn.grow(2)
    witness_vkey = Cosigner(keys.generate_signer("silent.test/witness")[0]).vkey

    def silent(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    def unreachable(timeout: float) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(silent), timeout=timeout)

    for required in (False, True):
        partner = PartnerWitnessSetting(
            url="http://silent.test/v1/witness", vkey=witness_vkey, required=required
        )
        settings = jpn.settings.model_copy(update={"witness_partners": [partner]})
        out_file = tmp_path / f"export-{required}.zip"
        caplog.clear()
        exported = run_command(
            ["export", "--out", str(out_file)], settings, unreachable, monkeypatch
        )
        pushed = run_command(["witness", "push"], settings, unreachable, monkeypatch)
        out, err = capsys.readouterr()
        assert "silent.test/witness+" in caplog.text  # logged either way
        if required:
            assert (exported, pushed) == (1, 2)
            assert not out_file.exists()
            refusals = errors(err)
            assert len(refusals) == 2
            assert all(
                line.startswith("error: required witness silent.test/witness+") for line in refusals
            )
        else:
            # Ignored: the export is signed; the push is tried and fails (exit 1).
            assert (exported, pushed) == (0, 1)
            assert out_file.exists()
            assert '"cosigned": false' in out
