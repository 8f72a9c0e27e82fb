"""Reconciliation between two a6ledger instances, on both databases: Japan's instance reads
Thailand's (``POST /v1/reconciliations`` and ``a6ledger reconcile``), verifies its entries
against its signed and cosigned checkpoint, and runs the consistency checks on both sides; a
matching pair and a mismatching pair, and a counterpart that serves what it did not sign."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from app.cli import main
from app.cli_reconcile import reconcile_with
from app.cli_witness import push_to_partners
from app.settings import get_settings
from ledger import demo
from ledger.access import create_token
from ledger.accounting.reconciliation import Reconciliation
from ledger.accounting.reporting.replay import party_entries
from ledger.log import keys, merkle, note
from ledger.log.tlog_checkpoint import open_checkpoint
from ledger.log.tlog_cosignature import Cosigner
from ledger.registry import services
from ledger.registry.model import UnitSelection
from tests.api.two_instances import Instance

PROBLEM = "urn:a6ledger:problem:"


def load_world(instance: Instance, transferred: int) -> int:
    """The JCM Japan-Thailand world on ``instance``: Thailand issues 2,017 t and transfers
    ``transferred`` of Japan's share to Japan; each Party's registry is on both instances, as in
    the demo scenario. Returns the year of the transfer."""
    with instance.storage.unit_of_work(write=True) as uow:
        demo.set_up_reference_data(uow)
        services.record_authorization(uow, demo.thai_ndc_authorization(), "test:THA01")
        services.issue(
            uow,
            services.Issuance(
                registry_id="THA01",
                attributes=demo.solar("THA01", "THA", "CA0001", 2021),
                shares=(
                    services.IssuanceShare(
                        "THA01-GOV", 1_009, "THA-JCM-2025-001", underlying_first=1
                    ),
                    services.IssuanceShare("THA01-PP", 1_008, None, underlying_first=1_010),
                ),
                decision_reference="JC7 2025-10-30",
            ),
            "test:THA01",
        )
        services.transfer(
            uow,
            services.TransferOrder("THA01-GOV", "JPN01-GOV", UnitSelection(quantity=transferred)),
            "test:THA01",
        )
        year = uow.now().year
        uow.commit()
    return year


def reconciler(instance: Instance) -> dict[str, str]:
    _, token = create_token(instance.storage, "reconciliation job", "reconciler", actor="test")
    return {"Authorization": f"Bearer {token}"}


def reconcile(jpn: Instance, year: int, **extra: object) -> tuple[int, dict[str, Any]]:
    body = {"party": "JPN", "counterpart_party": "THA", "reported_year": year, **extra}
    response = jpn.client.post("/v1/reconciliations", json=body, headers=reconciler(jpn))
    return response.status_code, response.json()


def test_a_matching_pair_reconciles(pair: tuple[Instance, Instance]) -> None:
    jpn, tha = pair
    year = load_world(jpn, 1_009)
    assert load_world(tha, 1_009) == year
    # Japan witnesses Thailand's log: Thailand pushes, Japan cosigns.
    (pushed,) = push_to_partners(tha.settings, jpn.client)
    assert pushed.cosigned, pushed.detail

    status, result = reconcile(jpn, year, required_cosignatures=1)
    assert status == 200, result
    assert result["failure"] is None
    assert result["matches"] is True, result["findings"]
    assert result["notation"] == "Checked, no inconsistencies identified"
    assert result["matched_transfers"] == 1
    checkpoint = result["counterpart_checkpoint"]
    assert isinstance(checkpoint, dict)
    assert checkpoint["origin"] == tha.origin
    name, key_id, _ = jpn.witness_vkey.split("+", 2)  # the key's base64 may hold a '+'
    assert checkpoint["cosigned_by"] == [f"{name}+{key_id}"]
    assert checkpoint["witnessed_size"] == pushed.tree_size
    # Only Thailand's report entries were read, each proven: not its tokens or cosignatures.
    with tha.storage.unit_of_work(write=False) as uow:
        wanted = [e.seq for e in party_entries(uow, "THA", checkpoint["tree_size"])]
    assert result["entries_verified"] == len(wanted)
    assert 0 < len(wanted) < checkpoint["tree_size"]


def test_witness_keys_given_are_all_required_unless_said_otherwise(
    pair: tuple[Instance, Instance],
) -> None:
    """As ``a6ledger reconcile --witness``: the keys of ``witnesses`` are the known witnesses,
    and ``required_cosignatures`` defaults to all of them (to none without ``witnesses``)."""
    jpn, tha = pair
    year = load_world(jpn, 1_009)
    load_world(tha, 1_009)
    (pushed,) = push_to_partners(tha.settings, jpn.client)  # Japan cosigns Thailand's log
    assert pushed.cosigned, pushed.detail
    stranger = Cosigner(keys.generate_signer("registry.example.mn/witness")[0]).vkey
    name, key_id, _ = jpn.witness_vkey.split("+", 2)

    status, result = reconcile(jpn, year, witnesses=[jpn.witness_vkey])
    assert status == 200, result
    assert result["matches"] is True, result
    assert result["counterpart_checkpoint"]["cosigned_by"] == [f"{name}+{key_id}"]
    status, result = reconcile(jpn, year, witnesses=[jpn.witness_vkey, stranger])
    assert status == 200, result
    assert result["matches"] is False
    assert "1 of the 2 known witnesses" in result["failure"]
    status, result = reconcile(
        jpn, year, witnesses=[jpn.witness_vkey, stranger], required_cosignatures=1
    )
    assert result["matches"] is True, result
    status, result = reconcile(jpn, year, witnesses=[stranger])
    assert "0 of the 1 known witnesses" in result["failure"]
    assert reconcile(jpn, year, witnesses=[stranger], required_cosignatures=0)[1]["matches"]
    assert reconcile(jpn, year, witnesses=[])[1]["matches"]
    # Without witnesses: the deployment's keys, none required unless said.
    status, result = reconcile(jpn, year)
    assert result["matches"] is True, result
    assert result["counterpart_checkpoint"]["cosigned_by"] == [f"{name}+{key_id}"]

    status, result = reconcile(jpn, year, witnesses=[stranger], required_cosignatures=2)
    assert status == 422, result
    assert "give between 0 and the 1 keys of witnesses" in json.dumps(result)
    status, result = reconcile(jpn, year, witnesses=["not a key"])
    assert status == 422, result
    assert result["type"] == PROBLEM + "invalid-key"


def test_the_party_entries_come_in_pages_each_proven(pair: tuple[Instance, Instance]) -> None:
    jpn, tha = pair
    load_world(tha, 1_009)
    tha.grow(2)  # entries about no Party
    signed = tha.client.get("/v1/log/checkpoint").text
    checkpoint, _ = open_checkpoint(signed, [note.Verifier(tha.log_vkey)])
    with tha.storage.unit_of_work(write=False) as uow:
        wanted = [e.seq for e in party_entries(uow, "THA", checkpoint.size)]
    headers = reconciler(tha)
    tha.client.app.state.settings.max_page_size = 3  # type: ignore[attr-defined]
    seen: list[int] = []
    start: str | None = "0"
    while start is not None:
        page = tha.client.get(
            "/v1/log/entries/party",
            params={"party": "THA", "tree_size": checkpoint.size, "start": start},
            headers=headers,
        )
        assert page.status_code == 200, page.text
        assert page.headers["A6-Tree-Size"] == str(checkpoint.size)
        lines = [json.loads(line) for line in page.text.splitlines()]
        assert len(lines) <= 3
        for line in lines:
            body = base64.b64decode(line["entry"])
            path = [base64.b64decode(h) for h in line["audit_path"]]
            merkle.verify_inclusion(
                merkle.leaf_hash(body), line["index"], checkpoint.size, path, checkpoint.root_hash
            )
            seen.append(line["index"])
        start = page.headers.get("A6-Next-Start")
    assert seen == wanted
    assert len(wanted) < checkpoint.size
    beyond = {"party": "THA", "tree_size": checkpoint.size + 1000}
    refused = tha.client.get("/v1/log/entries/party", params=beyond, headers=headers)
    assert refused.status_code == 422
    assert tha.client.get("/v1/log/entries/party", params=beyond).status_code == 401


def test_a_mismatching_pair_is_reported_on_both_sides(pair: tuple[Instance, Instance]) -> None:
    jpn, tha = pair
    year = load_world(jpn, 1_009)
    load_world(tha, 1_000)  # Thailand's registry recorded another quantity

    status, result = reconcile(jpn, year)
    assert status == 200, result
    assert result["failure"] is None
    assert result["matches"] is False
    assert result["notation"] == "Checked, inconsistencies identified"
    findings = result["findings"]
    assert isinstance(findings, list)
    assert findings
    assert {p for f in findings for p in f["parties"]} == {"JPN", "THA"}
    # The same from the command line's function, and the CLI itself cannot reach the URL.
    outcome = reconcile_with(jpn.settings, tha.client, "http://tha.test", "JPN", "THA", year)
    assert outcome.as_json()["findings"] == findings


def test_a_counterpart_is_held_to_its_signed_and_witnessed_checkpoint(
    pair: tuple[Instance, Instance],
) -> None:
    jpn, tha = pair
    year = load_world(jpn, 1_009)
    load_world(tha, 1_009)
    # Signed by a key that is not the counterpart's: nothing is compared.
    stranger = note.Signer(keys.generate_signer(tha.origin)[0])
    outcome = reconcile_with(
        jpn.settings, tha.client, "http://tha.test", "JPN", "THA", year, vkey=stranger.vkey
    )
    assert outcome.failure is not None
    assert "signature" in outcome.failure
    assert not outcome.matches
    assert outcome.as_json()["notation"] is None
    # A cosignature is required that nobody made.
    witness = Cosigner(keys.generate_signer("registry.example.mn/witness")[0])
    verifier = note.Verifier(witness.vkey)
    outcome = reconcile_with(
        jpn.settings,
        tha.client,
        "http://tha.test",
        "JPN",
        "THA",
        year,
        witnesses=(verifier,),
        required=1,
    )
    assert outcome.failure is not None
    assert "0 of the 1 known witnesses" in outcome.failure


def test_reconciliation_refusals(
    pair: tuple[Instance, Instance],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    jpn, _ = pair
    headers = reconciler(jpn)
    unknown = {"party": "JPN", "counterpart_party": "MNG", "reported_year": 2025}
    response = jpn.client.post("/v1/reconciliations", json=unknown, headers=headers)
    assert response.status_code == 404
    assert response.json()["type"] == PROBLEM + "counterpart-not-configured"
    anonymous = jpn.client.post("/v1/reconciliations", json=unknown)
    assert anonymous.status_code == 401
    # The command line: an unreachable counterpart (nothing listens on the discard port).
    monkeypatch.setenv("A6LEDGER_DATABASE_URL", jpn.settings.database_url)
    get_settings.cache_clear()
    try:
        args = ["reconcile", "--party", "JPN", "--counterpart-party", "THA", "--year", "2025"]
        unreachable = ["--counterpart", "http://127.0.0.1:9"]
        assert main([*args, *unreachable, "--counterpart-vkey", jpn.log_vkey]) == 2
        assert "cannot fetch" in capsys.readouterr().err
        assert main([*args, *unreachable]) == 2
        assert "no log key" in capsys.readouterr().err
        assert main([*args, *unreachable, "--witness", "not a key"]) == 2
        # --require defaults to every --witness key, as in verify-proof and verify-export.
        asked: list[int] = []

        def recorded(*_: object, required: int, **__: object) -> Reconciliation:
            asked.append(required)
            return Reconciliation("JPN", "THA", 2025)

        monkeypatch.setattr("app.cli_reconcile.reconcile_with", recorded)
        witness = ["--witness", jpn.witness_vkey]
        assert main([*args, *unreachable, *witness]) == 1
        assert main([*args, *unreachable, *witness, "--require", "0"]) == 1
        assert main([*args, *unreachable]) == 1
        assert asked == [1, 0, 0]
    finally:
        get_settings.cache_clear()
