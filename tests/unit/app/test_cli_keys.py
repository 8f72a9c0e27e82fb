"""``a6ledger keys generate``: a 0600 signer key file and the matching verifier key."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from app.cli import main
from ledger.log import note


def test_keys_generate_writes_a_private_file_and_prints_the_vkey(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "keys" / "signer.key"
    assert main(["keys", "generate", "--out", str(path), "--name", "example.org/log"]) == 0
    vkey = capsys.readouterr().out.strip()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    signer = note.Signer(path.read_text().strip())
    assert signer.vkey == vkey
    assert vkey.startswith("example.org/log+")
    signed = note.sign_note("hello\n", [signer])
    assert note.open_note(signed, [note.Verifier(vkey)])[0] == "hello\n"


def test_keys_generate_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "signer.key"
    assert main(["keys", "generate", "--out", str(path), "--name", "a/b"]) == 0
    before = path.read_text()
    assert main(["keys", "generate", "--out", str(path), "--name", "a/b"]) == 1
    assert path.read_text() == before
