"""Strict text encodings shared by the C2SP formats: keys, signed notes, checkpoints and proof
bundles (``ledger.log.keys``, ``note``, ``tlog_checkpoint``, ``tlog_proof``).

Everything that is parsed is parsed strictly: standard base64 must be canonical (the encoding a
correct encoder produces), decimals have no leading zeros, and text holds no control character
other than newline.
"""

from __future__ import annotations

import base64
import binascii
import re

MAX_UINT64 = (1 << 64) - 1

_B64_RE = re.compile(r"\A[A-Za-z0-9+/]*={0,2}\Z")
_DECIMAL_RE = re.compile(r"\A(?:0|[1-9][0-9]*)\Z")


def b64decode(text: str) -> bytes | None:
    """Standard base64 (RFC 4648 §4), padded and canonical; ``None`` if ``text`` is not that."""
    if len(text) % 4 != 0 or _B64_RE.match(text) is None:
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        return None
    if base64.b64encode(raw).decode("ascii") != text:
        return None
    return raw


def b64encode(raw: bytes) -> str:
    """Standard padded base64 as text."""
    return base64.b64encode(raw).decode("ascii")


def parse_uint64(text: str) -> int | str:
    """ASCII decimal without leading zeros, at most 2^64 - 1; else a description of the fault."""
    if _DECIMAL_RE.match(text) is None:
        return f"{text!r} is not an ASCII decimal without leading zeros"
    value = int(text)
    if value > MAX_UINT64:
        return f"{text} is larger than 2**64-1"
    return value


def has_control_characters(text: str) -> bool:
    """True if ``text`` holds an ASCII control character other than newline (signed-note)."""
    return any(ord(char) < 0x20 and char != "\n" for char in text)


def is_valid_utf8(text: str) -> bool:
    """False for text that cannot be encoded as UTF-8 (a lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
