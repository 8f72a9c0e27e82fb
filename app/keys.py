"""The log's Ed25519 signer key: a C2SP/Go ``PRIVATE+KEY+...`` file, mode 0600."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ledger.log import note
from ledger.log.keys import generate_signer


class SignerKeyMissing(RuntimeError):
    pass


def write_signer_key(path: Path, name: str) -> str:
    """Create a new signer key file (refusing to overwrite one); return the vkey text.

    The key is written to a private temporary file and linked into place, so a process that
    starts at the same moment never reads a half-written key (it gets ``FileExistsError``)."""
    skey, vkey = generate_signer(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        raise FileExistsError(path)
    with tempfile.NamedTemporaryFile(
        "w", encoding="ascii", dir=path.parent, prefix=f".{path.name}.", delete=False
    ) as handle:
        handle.write(skey + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    temporary = Path(handle.name)
    try:
        os.chmod(temporary, 0o600)
        os.link(temporary, path)
    finally:
        temporary.unlink()
    return vkey


def load_signer(path: Path, origin: str, *, create: bool) -> note.Signer:
    if not path.exists():
        if not create:
            raise SignerKeyMissing(
                f"signer key {path} does not exist: run `a6ledger keys generate --out {path}`"
            )
        try:
            write_signer_key(path, origin)
        except FileExistsError:
            pass  # another process starting at the same time wrote it first
    signer = note.Signer(path.read_text(encoding="ascii").strip())
    if signer.name != origin:
        raise SignerKeyMissing(
            f"signer key {path} is named {signer.name!r} but the log origin is {origin!r}"
        )
    return signer
