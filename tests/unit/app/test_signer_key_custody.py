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

from app.keys import SignerKeyMissing, load_signer, write_signer_key

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
        with acting_as(CONTAINER_UID), pytest.raises(SignerKeyMissing) as refused:
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
