"""C2SP checkpoints (ledger/log/tlog_checkpoint.py): body, strict parsing, signing."""

from __future__ import annotations

import base64

import pytest

from ledger.log.note import SignatureInvalid, Signer, Verifier, sign_note
from ledger.log.tlog_checkpoint import (
    Checkpoint,
    MalformedCheckpoint,
    open_checkpoint,
    sign_checkpoint,
)
from tests.unit.log.known_keys import ORIGIN, ROOT


def test_checkpoint_body_and_parse_round_trip() -> None:
    checkpoint = Checkpoint(ORIGIN, 20852163, ROOT)
    body = checkpoint.body()
    assert body == f"{ORIGIN}\n20852163\n{base64.b64encode(ROOT).decode()}\n"
    assert Checkpoint.parse(body) == checkpoint
    with_extensions = Checkpoint(ORIGIN, 0, ROOT, ("ext one", "ext two"))
    assert with_extensions.body().endswith("\next one\next two\n")
    assert Checkpoint.parse(with_extensions.body()) == with_extensions
    spec_example = (
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )
    assert Checkpoint.parse(spec_example).body() == spec_example


ROOT_B64 = base64.b64encode(ROOT).decode()


URLSAFE_HASH = base64.urlsafe_b64encode(b"\xff" * 32).decode()


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(f"{ORIGIN}\n007\n{ROOT_B64}\n", id="leading zeros"),
        pytest.param(f"{ORIGIN}\n00\n{ROOT_B64}\n", id="zero with a leading zero"),
        pytest.param(f"{ORIGIN}\n+7\n{ROOT_B64}\n", id="sign"),
        pytest.param(f"{ORIGIN}\n-1\n{ROOT_B64}\n", id="negative"),
        pytest.param(f"{ORIGIN}\n 7\n{ROOT_B64}\n", id="space"),
        pytest.param(f"{ORIGIN}\n1_000\n{ROOT_B64}\n", id="underscore"),
        pytest.param(f"{ORIGIN}\n\u0663\n{ROOT_B64}\n", id="non-ASCII digit"),
        pytest.param(f"{ORIGIN}\n18446744073709551616\n{ROOT_B64}\n", id="size above 2**64-1"),
        pytest.param(f"{ORIGIN}\n\n{ROOT_B64}\n", id="empty size"),
        pytest.param(f"{ORIGIN}\n7\n{ROOT_B64.rstrip('=')}\n", id="unpadded base64"),
        pytest.param(f"{ORIGIN}\n7\n{ROOT_B64[:-2]}!=\n", id="invalid base64"),
        pytest.param(f"{ORIGIN}\n7\n{base64.b64encode(ROOT[:31]).decode()}\n", id="31-byte hash"),
        pytest.param(f"{ORIGIN}\n7\n{base64.b64encode(ROOT + b'x').decode()}\n", id="33-byte hash"),
        pytest.param(f"{ORIGIN}\n7\n{URLSAFE_HASH}\n", id="URL-safe base64"),
        pytest.param(f"{ORIGIN}\n7\n{ROOT_B64}", id="no final newline"),
        pytest.param(f"{ORIGIN}\n7\n", id="two lines"),
        pytest.param(f"{ORIGIN}\n7\n{ROOT_B64}\n\n", id="empty extension line"),
        pytest.param(f"\n7\n{ROOT_B64}\n", id="empty origin"),
        pytest.param(f"{ORIGIN}\t\n7\n{ROOT_B64}\n", id="control character in origin"),
    ],
)
def test_checkpoint_parse_is_strict(text: str) -> None:
    with pytest.raises(MalformedCheckpoint):
        Checkpoint.parse(text)


def test_checkpoint_fields_are_validated() -> None:
    with pytest.raises(MalformedCheckpoint):
        Checkpoint("", 1, ROOT)
    with pytest.raises(MalformedCheckpoint):
        Checkpoint("a\nb", 1, ROOT)
    with pytest.raises(MalformedCheckpoint):
        Checkpoint(ORIGIN, -1, ROOT)
    with pytest.raises(MalformedCheckpoint):
        Checkpoint(ORIGIN, 1 << 64, ROOT)
    with pytest.raises(MalformedCheckpoint):
        Checkpoint(ORIGIN, True, ROOT)
    with pytest.raises(MalformedCheckpoint):
        Checkpoint(ORIGIN, 1, ROOT[:31])
    with pytest.raises(MalformedCheckpoint):
        Checkpoint(ORIGIN, 1, ROOT, ("",))
    with pytest.raises(MalformedCheckpoint):
        Checkpoint(ORIGIN, 1, ROOT, ("two\nlines",))


def test_signed_checkpoint_round_trip(log_keys: tuple[str, str]) -> None:
    skey, vkey = log_keys
    checkpoint = Checkpoint(ORIGIN, 42, ROOT)
    note = sign_checkpoint(checkpoint, [Signer(skey)])
    opened, signatures = open_checkpoint(note, [Verifier(vkey)])
    assert opened == checkpoint
    assert signatures[0].name == ORIGIN
    forged = note.replace("\n42\n", "\n43\n")
    with pytest.raises(SignatureInvalid):
        open_checkpoint(forged, [Verifier(vkey)])
    not_a_checkpoint = sign_note("just text\n", [Signer(skey)])
    with pytest.raises(MalformedCheckpoint):
        open_checkpoint(not_a_checkpoint, [Verifier(vkey)])
