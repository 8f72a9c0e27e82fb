"""``GET /v1/exports`` and the ``export`` / ``verify-export`` commands, on both databases: an
auditor downloads the demo ledger's export and verifies it with the published vkey only."""

from __future__ import annotations

import io
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app import cli
from app.settings import Settings, get_settings
from ledger.adapters.export_files import pack_export, unpack_export, verify_export
from ledger.demo import load_demo
from ledger.errors import ProofError
from ledger.log.export_format import CONSISTENCY_FILE, ENTRIES_FILE, ExportEntryInvalid
from tests.api.conftest import TokenFactory


@pytest.fixture
def loaded(client: TestClient, app: FastAPI) -> TestClient:
    with app.state.storage.unit_of_work(write=True) as uow:
        load_demo(uow)
        uow.commit()
    return client


@pytest.fixture
def vkey(loaded: TestClient) -> str:
    return str(loaded.get("/v1/log/key").text).strip()


def tree_size(client: TestClient) -> int:
    return int(client.get("/v1/log/checkpoint").text.splitlines()[1])


def test_an_auditor_downloads_an_export_that_verifies_offline(
    loaded: TestClient, tokens: TokenFactory, vkey: str
) -> None:
    headers = tokens("auditor")  # issuing the token appends token.created to the log
    size = tree_size(loaded)
    response = loaded.get("/v1/exports", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="a6ledger-export-0-{size}.zip"'
    )
    assert response.headers["a6-tree-size"] == str(size)
    report = verify_export(response.content, vkey)
    assert (report.origin, report.start, report.end, report.tree_size) == (
        "a6ledger.test/log",
        0,
        size,
        size,
    )
    entries = loaded.get(
        "/v1/log/entries", params={"start": 0, "end": size}, headers=headers
    ).content
    assert unpack_export(response.content)[ENTRIES_FILE] == entries


@pytest.mark.parametrize("role", ["admin", "reconciler"])
def test_a_range_with_a_consistency_proof_verifies(
    loaded: TestClient, tokens: TokenFactory, vkey: str, role: str
) -> None:
    headers = tokens(role)
    size = tree_size(loaded)
    params = {"start": 10, "end": 20, "previous_size": 12}
    response = loaded.get("/v1/exports", params=params, headers=headers)
    assert response.status_code == 200
    assert 'filename="a6ledger-export-10-20.zip"' in response.headers["content-disposition"]
    report = verify_export(response.content, vkey)
    assert (report.start, report.end, report.row_count) == (10, 20, 10)
    assert (report.tree_size, report.previous_size) == (size, 12)
    assert CONSISTENCY_FILE in report.files


def test_exports_need_an_auditor_admin_or_reconciler(
    loaded: TestClient, tokens: TokenFactory
) -> None:
    anonymous = loaded.get("/v1/exports")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    registry = loaded.get("/v1/exports", headers=tokens("registry", "JPN01"))
    assert registry.status_code == 403
    assert registry.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("params", "rule"),
    [
        ({"start": 5, "end": 5}, "export-range"),
        ({"start": 9, "end": 3}, "export-range"),
        ({"start": 0, "end": 100_000}, "export-range"),
        ({"start": 100_000}, "export-range"),
        ({"start": 0, "end": 3, "previous_size": 0}, "export-range"),
        ({"start": 0, "end": 3, "previous_size": 100_000}, "export-range"),
        ({"start": -1}, "request-schema"),
        ({"end": "x"}, "request-schema"),
    ],
)
def test_bad_ranges_are_problems(
    loaded: TestClient, tokens: TokenFactory, params: dict[str, object], rule: str
) -> None:
    response = loaded.get("/v1/exports", params=params, headers=tokens("auditor"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["rule"] == rule
    assert body["detail"]


def test_an_export_is_not_bounded_by_the_page_size(
    loaded: TestClient, tokens: TokenFactory, app: FastAPI, vkey: str
) -> None:
    """Exports stream (issue 12): the former cap of max_page_size * 10 entries is gone."""
    settings: Settings = app.state.settings
    settings.max_page_size = 2  # the cap would have been 2 * 10 entries
    headers = tokens("auditor")
    response = loaded.get("/v1/exports", params={"start": 0, "end": 21}, headers=headers)
    assert response.status_code == 200
    assert verify_export(response.content, vkey).row_count == 21
    whole = loaded.get("/v1/exports", headers=headers)
    assert verify_export(whole.content, vkey).row_count == tree_size(loaded) > 21


def test_verify_export_command(
    loaded: TestClient,
    tokens: TokenFactory,
    vkey: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = loaded.get("/v1/exports", params={"start": 3}, headers=tokens("auditor")).content
    export = tmp_path / "export.zip"
    export.write_bytes(data)
    key_file = tmp_path / "log.vkey"
    key_file.write_text(vkey + "\n")

    assert cli.main(["verify-export", str(export), "--vkey", vkey]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: ")
    assert f"of tree size {tree_size(loaded)}" in out

    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(export) as archive:
        archive.extractall(unpacked)
    assert cli.main(["verify-export", str(unpacked), "--vkey", str(key_file)]) == 0
    assert capsys.readouterr().out.startswith("OK: ")

    files = unpack_export(data)
    rows = files[ENTRIES_FILE].splitlines(keepends=True)
    rows[4] = rows[4].replace(b'"actor":"', b'"actor":"x', 1)
    files[ENTRIES_FILE] = b"".join(rows)
    tampered = tmp_path / "tampered.zip"
    tampered.write_bytes(pack_export(files))
    assert cli.main(["verify-export", str(tampered), "--vkey", vkey]) == 1
    out = capsys.readouterr().out
    assert out.startswith("FAIL: entries.jsonl, entry seq 7: ")

    (unpacked / "notes.txt").write_text("unsigned\n")
    assert cli.main(["verify-export", str(unpacked), "--vkey", vkey]) == 1
    assert "notes.txt" in capsys.readouterr().out


def test_verify_export_command_reports_unusable_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.zip"
    assert cli.main(["verify-export", str(missing), "--vkey", "a+00000000+AA=="]) == 2
    assert "cannot read" in capsys.readouterr().err
    missing.write_bytes(b"not a zip")
    assert cli.main(["verify-export", str(missing), "--vkey", "not-a-key"]) == 2
    assert "--vkey" in capsys.readouterr().err


@pytest.fixture
def cli_settings(app_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("A6LEDGER_DATABASE_URL", app_settings.database_url)
    monkeypatch.setenv("A6LEDGER_SIGNER_KEY_PATH", str(app_settings.signer_key_path))
    monkeypatch.setenv("A6LEDGER_LOG_ORIGIN", app_settings.log_origin)
    monkeypatch.setenv("A6LEDGER_CHECKPOINT_STATE_PATH", str(app_settings.checkpoint_state_path))
    get_settings.cache_clear()
    yield app_settings
    get_settings.cache_clear()


@pytest.mark.usefixtures("cli_settings")
def test_export_command_writes_a_verifiable_file(
    loaded: TestClient, vkey: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    size = tree_size(loaded)
    out = tmp_path / "audit.zip"
    argv = ["export", "--start", "2", "--end", "9", "--previous-size", "4", "--out", str(out)]
    assert cli.main(argv) == 0
    assert f"wrote {out}: entries [2, 9) of tree size {size}" in capsys.readouterr().out
    report = verify_export(out.read_bytes(), vkey)
    assert (report.start, report.end, report.previous_size) == (2, 9, 4)

    before = out.read_bytes()
    assert cli.main(argv) == 1
    assert "refusing to overwrite" in capsys.readouterr().err
    assert out.read_bytes() == before

    assert cli.main(["export", "--start", "9", "--end", "2", "--out", str(tmp_path / "x")]) == 1
    assert "range" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_a_tampered_download_fails_with_the_seq(
    loaded: TestClient, tokens: TokenFactory, vkey: str
) -> None:
    data = loaded.get("/v1/exports", headers=tokens("auditor")).content
    files = unpack_export(data)
    rows = files[ENTRIES_FILE].splitlines(keepends=True)
    rows[12], rows[13] = rows[13], rows[12]
    files[ENTRIES_FILE] = b"".join(rows)
    with pytest.raises(ExportEntryInvalid) as caught:
        verify_export(pack_export(files), vkey)
    assert caught.value.seq == 12


def test_an_export_must_extend_the_checkpoint_the_auditor_kept(
    client: TestClient, app: FastAPI, tokens: TokenFactory
) -> None:
    from ledger.log.export_format import ExportConsistencyInvalid

    auditor = tokens("auditor")
    with app.state.storage.unit_of_work(write=True) as uow:
        load_demo(uow)
        uow.commit()
    kept = client.get("/v1/log/checkpoint").text
    kept_size = int(kept.splitlines()[1])
    vkey = client.get("/v1/log/key").text.strip()
    with app.state.storage.unit_of_work(write=True) as uow:
        uow.log.append("test.note", {"n": 1}, actor="test")
        uow.commit()
    plain = client.get("/v1/exports", params={"start": 0}, headers=auditor).content
    with pytest.raises(ExportConsistencyInvalid, match="previous_size"):
        verify_export(plain, vkey, kept)
    linked = client.get(
        "/v1/exports", params={"start": 0, "previous_size": kept_size}, headers=auditor
    ).content
    report = verify_export(linked, vkey, kept)
    assert report.previous_size == kept_size
    forged = kept.replace(kept.splitlines()[2], "B" * 43 + "=")
    with pytest.raises(ProofError):
        verify_export(linked, vkey, forged)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.usefixtures("cli_settings")
def test_export_and_verify_export_draw_a_bar_only_on_a_terminal(
    loaded: TestClient,
    vkey: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 11, CLI manners: a progress bar on stderr when it is a terminal, nothing when it
    is piped; stdout carries the result line alone either way."""
    size = tree_size(loaded)
    piped = tmp_path / "piped.zip"
    assert cli.main(["export", "--out", str(piped)]) == 0
    assert cli.main(["verify-export", str(piped), "--vkey", vkey]) == 0
    out, err = capsys.readouterr()
    assert "\r" not in err + out  # no bar: only the lines the commands print
    assert "entries/s" not in err

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    shown = tmp_path / "shown.zip"
    assert cli.main(["export", "--out", str(shown)]) == 0
    drawn = terminal.getvalue()
    assert "export" in drawn
    assert f"/{size} " in drawn
    assert drawn.endswith("\r")  # cleared: the result line stands alone
    terminal.seek(0)
    terminal.truncate()
    assert cli.main(["verify-export", str(shown), "--vkey", vkey]) == 0
    drawn = terminal.getvalue()
    assert "verify-export" in drawn
    assert f"/{size} " in drawn  # the total, read from the manifest
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" ")[0] for line in lines] == ["wrote", "OK:"]
