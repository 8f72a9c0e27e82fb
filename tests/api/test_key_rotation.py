"""Key rotation (docs/operations.md, "Key custody"): a new signer key under the same log origin
signs the checkpoints from then on; the checkpoints the old key signed still verify with the old
verifier key, and the new ones prove that the log only grew."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.cli import main
from app.main import create_app
from app.settings import Settings, get_settings
from ledger.log.merkle import verify_consistency
from ledger.log.note import NoKnownSignature, Verifier
from ledger.log.tlog_checkpoint import Checkpoint, open_checkpoint
from tests.api.conftest import TokenFactory


def _checkpoint_and_key(settings: Settings, tokens: TokenFactory) -> tuple[str, str]:
    with TestClient(create_app(settings)) as client:
        tokens.issue("auditor")  # one more ledger entry: the tree grows under every key
        return client.get("/v1/log/checkpoint").text, client.get("/v1/log/key").text.strip()


def test_a_new_key_keeps_the_origin_and_old_checkpoints_verify(
    app_settings: Settings,
    tokens: TokenFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old_note, old_vkey = _checkpoint_and_key(app_settings, tokens)

    new_key = tmp_path / "log-signer-2027.key"
    monkeypatch.setenv("A6LEDGER_LOG_ORIGIN", app_settings.log_origin)
    get_settings.cache_clear()
    try:
        assert main(["keys", "generate", "--out", str(new_key)]) == 0
    finally:
        get_settings.cache_clear()
    generated_vkey = capsys.readouterr().out.strip()
    rotated = app_settings.model_copy(update={"signer_key_path": new_key})
    new_note, new_vkey = _checkpoint_and_key(rotated, tokens)

    assert new_vkey == generated_vkey != old_vkey
    old, _ = open_checkpoint(old_note, [Verifier(old_vkey)])
    new, _ = open_checkpoint(new_note, [Verifier(new_vkey)])
    assert old.origin == new.origin == app_settings.log_origin
    assert new.size > old.size
    with pytest.raises(NoKnownSignature):
        open_checkpoint(old_note, [Verifier(new_vkey)])  # each checkpoint names its own key
    # A verifier that keeps both keys checks every checkpoint the log ever signed.
    both = [Verifier(old_vkey), Verifier(new_vkey)]
    assert open_checkpoint(old_note, both)[0] == old
    _consistent(rotated, old, new, tokens)


def _consistent(settings: Settings, old: Checkpoint, new: Checkpoint, tokens: TokenFactory) -> None:
    auditor = tokens("auditor")
    with TestClient(create_app(settings)) as client:
        proof = client.get(
            "/v1/log/proofs/consistency",
            params={"first": old.size, "second": new.size},
            headers=auditor,
        ).json()
    verify_consistency(
        old.size,
        new.size,
        [base64.b64decode(h) for h in proof["consistency"]],
        old.root_hash,
        new.root_hash,
    )
