"""C2SP key texts (ledger/log/keys.py): Go's signer and verifier key formats and key IDs."""

from __future__ import annotations

import base64
import hashlib

import pytest

from ledger.log.keys import (
    SIGNATURE_TYPE_ED25519,
    InvalidKey,
    format_skey,
    format_vkey,
    key_id,
    parse_skey,
    parse_vkey,
)
from ledger.log.note import Signer, Verifier
from tests.unit.log.known_keys import GO_SKEY, GO_VKEY


def test_go_key_texts_round_trip() -> None:
    parsed = parse_skey(GO_SKEY)
    assert parsed.text() == GO_SKEY
    assert format_skey(parsed.name, parsed.seed) == GO_SKEY
    assert "seed" not in repr(parsed)
    assert "AYEKFALV" not in repr(Signer(GO_SKEY))
    vkey = parse_vkey(GO_VKEY)
    assert vkey.signature_type == SIGNATURE_TYPE_ED25519
    assert vkey.public_key == parsed.public_key()
    assert vkey.key_id == key_id("PeterNeumann", SIGNATURE_TYPE_ED25519, vkey.public_key)
    assert format_vkey("PeterNeumann", vkey.public_key) == GO_VKEY
    assert vkey.text() == GO_VKEY


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong key ID
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # 7 hex digits
        "PeterNeumann+c74f20ag+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # not hex
        "PeterNeumann+c74_20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # int() accepts _
        "PeterNeumann2+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # other name
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",  # bad base64
        "PeterNeumann+c74f20a3",  # no key
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # space
        "",
    ],
)
def test_bad_verifier_keys_are_refused(vkey: str) -> None:
    with pytest.raises(InvalidKey):
        Verifier(vkey)


def test_verifier_key_types_and_lengths_are_checked() -> None:
    public_key = parse_vkey(GO_VKEY).public_key
    for signature_type, key in ((0x02, public_key), (0x01, public_key[:31])):
        raw = bytes([signature_type]) + key
        kid = int.from_bytes(hashlib.sha256(b"n\n" + raw).digest()[:4], "big")
        with pytest.raises(InvalidKey):
            parse_vkey(f"n+{kid:08x}+{base64.b64encode(raw).decode()}")
    with pytest.raises(InvalidKey):
        format_vkey("n", public_key, 0x02)
    with pytest.raises(InvalidKey):
        format_vkey("bad name", public_key)


@pytest.mark.parametrize(
    "skey",
    [
        GO_SKEY.replace("PRIVATE+KEY+", "PRIVATE+KEYS+"),
        GO_SKEY.replace("c74f20a3", "c74f20a4"),
        GO_SKEY.replace("PeterNeumann", "PeterNeumann2"),
        GO_SKEY[:-4],
        GO_VKEY,
        "PRIVATE+KEY+n+00000000+" + base64.b64encode(b"\x02" + b"\x00" * 32).decode(),
        "PRIVATE+KEY+n+00000000+" + base64.b64encode(b"\x01" + b"\x00" * 31).decode(),
    ],
)
def test_bad_signer_keys_are_refused(skey: str) -> None:
    with pytest.raises(InvalidKey):
        Signer(skey)
