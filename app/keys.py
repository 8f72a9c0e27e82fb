"""The log's Ed25519 signer key and the witness's cosigner key: C2SP/Go ``PRIVATE+KEY+...``
files, mode 0600.

The key files must be readable by the user the service runs as (in the container image, uid
65532): a key it cannot use is a :class:`SignerKeyUnusable`, named for what happened
(:class:`SignerKeyMissing`, :class:`SignerKeyUnreadable`, :class:`SignerKeyMalformed`,
:class:`SignerKeyMismatch`), with one line that says what to do (docs/operations.md, "Key
custody").
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ledger.log import note
from ledger.log.keys import InvalidKey, generate_signer
from ledger.log.tlog_cosignature import Cosigner


class SignerKeyUnusable(RuntimeError):
    """The configured signer (or witness) key cannot be used; its message is one line."""


class SignerKeyMissing(SignerKeyUnusable):
    """The key file does not exist (and the service may not create it)."""


class SignerKeyUnreadable(SignerKeyUnusable):
    """The key file exists but the service's user cannot read it as ASCII text."""


class SignerKeyMalformed(SignerKeyUnusable):
    """The key file does not hold a C2SP signer key (``PRIVATE+KEY+...``)."""


class SignerKeyMismatch(SignerKeyUnusable):
    """The key's name is not the configured log origin (or witness name): checkpoints signed
    with it would not verify under the origin the log publishes, so it is refused."""


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


def _ensure_key(path: Path, name: str, *, create: bool) -> str:
    if not path.exists():
        if not create:
            raise SignerKeyMissing(
                f"key {path} does not exist: run "
                f"`a6ledger keys generate --out {path} --name {name}`"
            )
        try:
            write_signer_key(path, name)
        except FileExistsError:
            pass  # another process starting at the same time wrote it first
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise SignerKeyUnreadable(
            f"key {path} cannot be read by uid {os.geteuid()} ({reason}): make it a file "
            "this user may read (in the container: chown 65532, mode 0400)"
        ) from None


def load_signer(path: Path, origin: str, *, create: bool) -> note.Signer:
    try:
        signer = note.Signer(_ensure_key(path, origin, create=create))
    except InvalidKey as exc:
        raise SignerKeyMalformed(
            f"signer key {path} is not a signer key ({exc.message}): write one with "
            "`a6ledger keys generate`"
        ) from None
    if signer.name != origin:
        raise SignerKeyMismatch(
            f"signer key {path} is named {signer.name!r} but the log origin is {origin!r}: "
            f"give the key of {origin!r} (A6LEDGER_SIGNER_KEY_PATH) or set "
            f"A6LEDGER_LOG_ORIGIN={signer.name}"
        )
    return signer


def load_cosigner(path: Path, name: str, *, create: bool) -> Cosigner:
    """The witness's ``cosignature/v1`` key (its key ID is computed with type 0x04)."""
    try:
        cosigner = Cosigner(_ensure_key(path, name, create=create))
    except InvalidKey as exc:
        raise SignerKeyMalformed(
            f"witness key {path} is not a signer key ({exc.message}): write one with "
            "`a6ledger keys generate`"
        ) from None
    if cosigner.name != name:
        raise SignerKeyMismatch(
            f"witness key {path} is named {cosigner.name!r} but the witness name is {name!r}: "
            f"give the key of {name!r} (A6LEDGER_WITNESS_SIGNER_KEY_PATH) or set "
            f"A6LEDGER_WITNESS_NAME={cosigner.name}"
        )
    return cosigner
