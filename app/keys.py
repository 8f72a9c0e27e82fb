"""The log's Ed25519 signer key: a C2SP/Go ``PRIVATE+KEY+...`` file, mode 0600."""

from __future__ import annotations

import os
from pathlib import Path

from ledger.log import note
from ledger.log.keys import generate_signer


class SignerKeyMissing(RuntimeError):
    pass


def write_signer_key(path: Path, name: str) -> str:
    """Create a new signer key file (refusing to overwrite one); return the vkey text."""
    skey, vkey = generate_signer(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(skey + "\n")
    return vkey


def load_signer(path: Path, origin: str, *, create: bool) -> note.Signer:
    if not path.exists():
        if not create:
            raise SignerKeyMissing(
                f"signer key {path} does not exist: run `a6ledger keys generate --out {path}`"
            )
        write_signer_key(path, origin)
    signer = note.Signer(path.read_text(encoding="ascii").strip())
    if signer.name != origin:
        raise SignerKeyMissing(
            f"signer key {path} is named {signer.name!r} but the log origin is {origin!r}"
        )
    return signer
