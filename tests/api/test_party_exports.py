"""Filtered exports (issue 12), on both databases: the entries one Party's AEF of one year is
built from, each with its C2SP tlog-proof against one signed checkpoint, the AEF tables derived
from them and a signed manifest recording the filter. The verifier re-derives the tables and
refuses a tampered table, a dropped entry and an entry of another Party slipped in, even when
the manifest is signed again with the log key (a dishonest server)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app import cli
from app.keys import load_signer
from app.settings import Settings
from ledger.accounting import aef
from ledger.accounting.party_export import (
    PARTY_EXPORT_FORMAT,
    ExportAefMismatch,
    ExportSelectionMismatch,
)
from ledger.accounting.party_export_verify import PartyExportReport
from ledger.accounting.reporting.aef_report import aef_report_for
from ledger.adapters.export_files import pack_export, unpack_export, verify_any_export
from ledger.demo import load_demo
from ledger.log import note
from ledger.log.canonical import canonical_bytes
from ledger.log.chain import Entry
from ledger.log.export_format import (
    AEF_FILE,
    ENTRIES_FILE,
    MANIFEST_FILE,
    MANIFEST_SIGNATURE_FILE,
    TLOG_PROOFS_FILE,
    ExportInclusionInvalid,
    manifest_signature_text,
)
from ledger.registry.entry_tags import entry_tags
from tests.api.conftest import TokenFactory

YEAR = datetime.now(UTC).year  # the demo's actions are dated when they are recorded


@pytest.fixture
def auditor(app: FastAPI, tokens: TokenFactory) -> dict[str, str]:
    headers = tokens("auditor")  # issued before the demo, so downloads append nothing
    with app.state.storage.unit_of_work(write=True) as uow:
        load_demo(uow)
        uow.commit()
    return headers


@pytest.fixture
def vkey(client: TestClient) -> str:
    return str(client.get("/v1/log/key").text).strip()


def download(client: TestClient, headers: dict[str, str], party: str = "JPN") -> bytes:
    response = client.get("/v1/exports", params={"party": party, "year": YEAR}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == (
        f'attachment; filename="a6ledger-export-{party}-{YEAR}.zip"'
    )
    return bytes(response.content)


def lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def resigned(files: dict[str, bytes], signer: note.Signer, **changes: object) -> bytes:
    """The export with its manifest rewritten for the members as they now are (and
    ``changes``), signed again with the log key: what a dishonest server could produce."""
    manifest = json.loads(files[MANIFEST_FILE])
    manifest["files"] = {
        name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        for name, data in files.items()
        if name not in (MANIFEST_FILE, MANIFEST_SIGNATURE_FILE)
    }
    manifest.update(changes)
    body = canonical_bytes(manifest) + b"\n"
    return pack_export(
        {
            **files,
            MANIFEST_FILE: body,
            MANIFEST_SIGNATURE_FILE: note.sign_note(manifest_signature_text(body), [signer]).encode(
                "utf-8"
            ),
        }
    )


def selection(seqs: list[int]) -> dict[str, object]:
    digest = hashlib.sha256(b"".join(seq.to_bytes(8, "big") for seq in seqs)).hexdigest()
    return {
        "row_count": len(seqs),
        "selection": {
            "first_seq": seqs[0],
            "last_seq": seqs[-1],
            "rule": "a6ledger-party-aef/v1",
            "seqs_sha256": digest,
        },
    }


@pytest.fixture
def signer(app_settings: Settings) -> note.Signer:
    return load_signer(app_settings.signer_key_path, app_settings.log_origin, create=False)


def test_a_filtered_export_carries_the_partys_entries_and_aef(
    client: TestClient, app: FastAPI, auditor: dict[str, str], vkey: str
) -> None:
    data = download(client, auditor)
    size = int(client.get("/v1/log/checkpoint").text.splitlines()[1])
    report = verify_any_export(data, vkey)
    assert isinstance(report, PartyExportReport)
    assert (report.party, report.year, report.tree_size) == ("JPN", YEAR, size)
    files = unpack_export(data)
    assert json.loads(files[MANIFEST_FILE])["format"] == PARTY_EXPORT_FORMAT
    assert json.loads(files[MANIFEST_FILE])["filters"] == {"party": "JPN", "year": YEAR}
    entries = [Entry.from_canonical(line[:-1]) for line in lines(files[ENTRIES_FILE])]
    assert 0 < len(entries) == report.row_count < size  # other Parties' entries are left out
    kinds = {entry.kind for entry in entries}
    assert {"party.registered", "account.opened", "itmo.use"} <= kinds
    assert all(
        "*" in tags or any("JPN" in tag for tag in tags)
        for tags in (entry_tags(e.kind, e.payload) for e in entries)
    )
    proofs = [json.loads(line) for line in lines(files[TLOG_PROOFS_FILE])]
    assert [p["seq"] for p in proofs] == [e.seq for e in entries]
    assert all(p["tlog_proof"].startswith("c2sp.org/tlog-proof@v1\n") for p in proofs)
    with app.state.storage.unit_of_work(write=False) as uow:
        served = aef.to_json(aef_report_for(uow, "JPN", YEAR, tree_size=size))
    carried = json.loads(files[AEF_FILE])
    assert carried == served  # the tables the server reports, derived from the entries alone
    assert report.aef_rows[aef.AefTable.ACTIONS.value] == len(served[aef.AefTable.ACTIONS.value])
    assert report.aef_rows[aef.AefTable.ACTIONS.value] > 0

    linked = client.get(
        "/v1/exports", params={"party": "JPN", "year": YEAR, "previous_size": 10}, headers=auditor
    )
    assert linked.status_code == 200
    extended = verify_any_export(linked.content, vkey)  # with its consistency proof from 10
    assert (extended.previous_size, extended.row_count) == (10, report.row_count)


def test_a_dishonest_export_is_refused_even_when_signed_again(
    client: TestClient, auditor: dict[str, str], vkey: str, signer: note.Signer
) -> None:
    """One download, three forgeries (each helper below works on its own copy)."""
    exported = unpack_export(download(client, auditor))
    a_tampered_table_is_refused(dict(exported), vkey, signer)
    a_dropped_entry_is_refused(dict(exported), vkey, signer)
    an_entry_of_another_party_slipped_in_is_refused(dict(exported), client, auditor, vkey, signer)


def a_tampered_table_is_refused(files: dict[str, bytes], vkey: str, signer: note.Signer) -> None:
    tables = json.loads(files[AEF_FILE])
    row = tables[aef.AefTable.ACTIONS.value][0]
    quantity = next(key for key, value in row.items() if isinstance(value, int) and value > 100)
    row[quantity] += 1
    files[AEF_FILE] = canonical_bytes(tables) + b"\n"
    with pytest.raises(ExportAefMismatch, match="not the one the entries give"):
        verify_any_export(resigned(files, signer), vkey)


def a_dropped_entry_is_refused(files: dict[str, bytes], vkey: str, signer: note.Signer) -> None:
    entries, proofs = lines(files[ENTRIES_FILE]), lines(files[TLOG_PROOFS_FILE])
    use = next(i for i, line in enumerate(entries) if b'"kind":"itmo.use"' in line)
    seqs = [Entry.from_canonical(line[:-1]).seq for line in entries]
    del entries[use], proofs[use], seqs[use]
    files[ENTRIES_FILE], files[TLOG_PROOFS_FILE] = b"".join(entries), b"".join(proofs)
    # The manifest as signed lists the entry: the count and the digest of the seqs differ.
    with pytest.raises(ExportSelectionMismatch, match="dropped, added or replaced"):
        verify_any_export(pack_export(files), vkey)
    # Signed again for the smaller selection: every proof verifies, the tables do not.
    with pytest.raises(ExportAefMismatch):
        verify_any_export(resigned(files, signer, **selection(seqs)), vkey)


def an_entry_of_another_party_slipped_in_is_refused(
    files: dict[str, bytes],
    client: TestClient,
    auditor: dict[str, str],
    vkey: str,
    signer: note.Signer,
) -> None:
    entries, proofs = lines(files[ENTRIES_FILE]), lines(files[TLOG_PROOFS_FILE])
    seqs = [Entry.from_canonical(line[:-1]).seq for line in entries]
    whole = unpack_export(client.get("/v1/exports", headers=auditor).content)
    foreign = next(
        line
        for line in lines(whole[ENTRIES_FILE])
        if b'"kind":"mo.issued"' in line and b"MNG01" in line
    )
    seq = Entry.from_canonical(foreign[:-1]).seq
    bundle = client.get("/v1/log/proofs/bundle", params={"index": seq}).text
    position = next(i for i, s in enumerate(seqs) if s > seq)
    entries.insert(position, foreign)
    proofs.insert(position, canonical_bytes({"seq": seq, "tlog_proof": bundle}) + b"\n")
    seqs.insert(position, seq)
    files[ENTRIES_FILE], files[TLOG_PROOFS_FILE] = b"".join(entries), b"".join(proofs)
    with pytest.raises(ExportSelectionMismatch, match="does not concern Party JPN") as caught:
        verify_any_export(resigned(files, signer, **selection(seqs)), vkey)
    assert caught.value.seq == seq  # its tlog-proof verified: it is in the log, not JPN's

    files[TLOG_PROOFS_FILE] = b"".join(proofs).replace(b"index ", b"index 1", 1)
    with pytest.raises(ExportInclusionInvalid):
        verify_any_export(resigned(files, signer, **selection(seqs)), vkey)


def test_bad_filters_are_problems(client: TestClient, auditor: dict[str, str]) -> None:
    for params, status, rule in (
        ({"party": "JPN"}, 422, "export-filter"),
        ({"year": 2030}, 422, "export-filter"),
        ({"party": "JPN", "year": 2030, "start": 3}, 422, "export-filter"),
        ({"party": "JPN", "year": 20300}, 422, "request-schema"),
        ({"party": "ZZZ", "year": 2030}, 404, "party-registered"),
    ):
        response = client.get("/v1/exports", params=params, headers=auditor)
        assert response.status_code == status, (params, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["rule"] == rule, params


@pytest.mark.usefixtures("auditor")
def test_export_and_verify_export_commands_filter_by_party_and_year(
    vkey: str,
    app_settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.settings import get_settings

    monkeypatch.setenv("A6LEDGER_DATABASE_URL", app_settings.database_url)
    monkeypatch.setenv("A6LEDGER_SIGNER_KEY_PATH", str(app_settings.signer_key_path))
    monkeypatch.setenv("A6LEDGER_LOG_ORIGIN", app_settings.log_origin)
    monkeypatch.setenv("A6LEDGER_CHECKPOINT_STATE_PATH", str(app_settings.checkpoint_state_path))
    get_settings.cache_clear()
    out = tmp_path / "jpn.zip"
    try:
        assert cli.main(["export", "--party", "JPN", "--year", str(YEAR), "--out", str(out)]) == 0
        assert cli.main(["export", "--party", "JPN", "--out", str(tmp_path / "x.zip")]) == 1
    finally:
        get_settings.cache_clear()
    assert f"entries of JPN's AEF for {YEAR}" in capsys.readouterr().out
    assert not (tmp_path / "x.zip").exists()
    assert cli.main(["verify-export", str(out), "--vkey", vkey]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("OK: ")
    assert f"of JPN's AEF for {YEAR}" in shown
    assert "does not prove that no other entry concerns the Party" in shown
