"""The signer key file works for the container's non-root user (uid 65532) as documented in the
Dockerfile and docs/operations.md, "Key custody": as written by ``a6ledger keys generate`` (mode
0600, owned by whoever generated it) it is refused with one line naming the fix; after
``chown 65532`` and ``chmod 0400`` the service's user loads it."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from app.keys import (
    SignerKeyMalformed,
    SignerKeyMismatch,
    SignerKeyMissing,
    SignerKeyUnreadable,
    SignerKeyUnusable,
    load_cosigner,
    load_signer,
    write_signer_key,
)

CONTAINER_UID = 65532
ORIGIN = "prod.example/log"


@contextmanager
def acting_as(uid: int) -> Iterator[None]:
    """File access as ``uid`` (the effective user id), then back to root."""
    os.seteuid(uid)
    try:
        yield
    finally:
        os.seteuid(0)


@pytest.mark.skipif(os.geteuid() != 0, reason="acting as another user needs root")
def test_the_key_works_for_the_container_user_once_given_to_it() -> None:
    folder = Path(tempfile.mkdtemp(prefix="a6t-key-"))
    try:
        folder.chmod(0o755)  # like /run/secrets: the service's user may look inside
        key = folder / "a6ledger-signer.key"
        vkey = write_signer_key(key, ORIGIN)
        with acting_as(CONTAINER_UID), pytest.raises(SignerKeyUnreadable) as refused:
            load_signer(key, ORIGIN, create=False)
        assert str(refused.value) == (
            f"key {key} cannot be read by uid {CONTAINER_UID} (Permission denied): make "
            "it a file this user may read (in the container: chown 65532, mode 0400)"
        )
        os.chown(key, CONTAINER_UID, -1)
        key.chmod(0o400)
        with acting_as(CONTAINER_UID):
            assert load_signer(key, ORIGIN, create=False).vkey == vkey
    finally:
        shutil.rmtree(folder)


def test_a_key_named_for_another_origin_is_a_mismatch_in_one_line(tmp_path: Path) -> None:
    key = tmp_path / "signer.key"
    write_signer_key(key, "other.example/log")
    with pytest.raises(SignerKeyMismatch) as refused:
        load_signer(key, ORIGIN, create=False)
    assert str(refused.value) == (
        f"signer key {key} is named 'other.example/log' but the log origin is {ORIGIN!r}: "
        f"give the key of {ORIGIN!r} (A6LEDGER_SIGNER_KEY_PATH) or set "
        "A6LEDGER_LOG_ORIGIN=other.example/log"
    )
    assert isinstance(refused.value, SignerKeyUnusable)


def test_a_witness_key_named_for_another_witness_is_a_mismatch(tmp_path: Path) -> None:
    key = tmp_path / "witness.key"
    write_signer_key(key, "other.example/witness")
    with pytest.raises(SignerKeyMismatch, match="A6LEDGER_WITNESS_NAME=other.example/witness"):
        load_cosigner(key, "prod.example/witness", create=False)


@pytest.mark.parametrize(
    ("content", "refusal"),
    [(None, SignerKeyMissing), ("PUBLIC+KEY+not-a-signer-key\n", SignerKeyMalformed)],
)
def test_each_unusable_key_is_named_for_what_happened(
    tmp_path: Path, content: str | None, refusal: type[SignerKeyUnusable]
) -> None:
    key = tmp_path / "signer.key"
    if content is not None:
        key.write_text(content)
    for load in (load_signer, load_cosigner):
        with pytest.raises(refusal) as refused:
            load(key, ORIGIN, create=False)
        assert "\n" not in str(refused.value)
