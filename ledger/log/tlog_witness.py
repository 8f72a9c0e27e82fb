"""The C2SP witness protocol's messages (https://c2sp.org/tlog-witness, verifiable-log.md §8):
the ``add-checkpoint`` request body, the 409 answer naming the witness's latest size, and the
cosignature lines of a 200 answer.

Request body: ``old <size>\\n``, zero to 63 base64 consistency-proof lines, an empty line, then
the signed checkpoint note. Everything is parsed strictly (``ledger.log.encoding``). What a
witness does with a request, and how this log asks its witnesses, is ``ledger.log.witnessing``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.errors import InvalidInput
from ledger.log.encoding import b64decode, b64encode, parse_uint64
from ledger.log.merkle import HASH_SIZE

MAX_PROOF_LINES = 63
"""tlog-witness: a client MUST NOT send more than 63 consistency proof lines."""

SIZE_MEDIA_TYPE = "text/x.tlog.size"
"""Content type of the 409 answer: the witness's latest cosigned size and a newline."""

ADD_CHECKPOINT_PATH = "add-checkpoint"
"""The path of the call under a witness's submission prefix."""


class MalformedWitnessRequest(InvalidInput):
    """An add-checkpoint body is an ``old <size>`` line, at most 63 base64 hash lines, an empty
    line and a signed checkpoint, every line ending in a newline (c2sp.org/tlog-witness)."""

    problem_type = "malformed-witness-request"
    title = "An add-checkpoint body does not follow c2sp.org/tlog-witness"
    rule = "tlog-witness-format"


class MalformedWitnessResponse(InvalidInput):
    """A witness's answer does not follow c2sp.org/tlog-witness."""

    problem_type = "malformed-witness-response"
    title = "A witness's answer does not follow c2sp.org/tlog-witness"
    rule = "tlog-witness-response"


@dataclass(frozen=True, slots=True)
class AddCheckpoint:
    """An ``add-checkpoint`` request: the size the log says the witness cosigned last, the
    consistency proof from it, and the signed checkpoint note (not verified here)."""

    old_size: int
    proof: tuple[bytes, ...]
    checkpoint_note: str

    def body(self) -> str:
        """The request body (tlog-witness §add-checkpoint)."""
        lines = [f"old {self.old_size}", *(b64encode(h) for h in self.proof), ""]
        return "".join(line + "\n" for line in lines) + self.checkpoint_note


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Parse an ``add-checkpoint`` body strictly; :class:`MalformedWitnessRequest` otherwise."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedWitnessRequest("the body is not UTF-8 text") from exc
    head, separator, checkpoint_note = text.partition("\n\n")
    if not separator:
        raise MalformedWitnessRequest("the body has no empty line before the checkpoint")
    if checkpoint_note == "":
        raise MalformedWitnessRequest("the body has no checkpoint after the empty line")
    old_line, *proof_lines = head.split("\n")
    if not old_line.startswith("old "):
        raise MalformedWitnessRequest(f"the first line must be 'old <size>', got {old_line!r}")
    old_size = parse_uint64(old_line.removeprefix("old "))
    if isinstance(old_size, str):
        raise MalformedWitnessRequest(f"old size {old_size}")
    if len(proof_lines) > MAX_PROOF_LINES:
        raise MalformedWitnessRequest(
            f"{len(proof_lines)} consistency proof lines: at most {MAX_PROOF_LINES}"
        )
    proof: list[bytes] = []
    for number, line in enumerate(proof_lines, start=2):
        digest = b64decode(line)
        if digest is None or len(digest) != HASH_SIZE:
            raise MalformedWitnessRequest(
                f"line {number} is not the base64 of a {HASH_SIZE}-byte hash: {line[:60]!r}"
            )
        proof.append(digest)
    return AddCheckpoint(old_size, tuple(proof), checkpoint_note)


def format_size(size: int) -> str:
    """The body of a 409 answer: the latest cosigned size in decimal and a newline."""
    return f"{size}\n"


def parse_size(body: str) -> int:
    """The size in a 409 answer (``text/x.tlog.size``)."""
    size = parse_uint64(body.removesuffix("\n")) if body.endswith("\n") else "no final newline"
    if isinstance(size, str):
        raise MalformedWitnessResponse(f"the witness's size answer is not a decimal line: {size}")
    return size


def parse_cosignature_lines(body: str) -> tuple[str, ...]:
    """The signature lines of a 200 answer: one or more lines starting with ``—`` (U+2014),
    each ending in a newline. Returned without their newlines, not verified."""
    if not body.endswith("\n"):
        raise MalformedWitnessResponse("the witness's answer does not end in a newline")
    lines = tuple(body[:-1].split("\n"))
    for line in lines:
        if not line.startswith("\u2014 "):
            raise MalformedWitnessResponse(
                f"the witness's answer holds a line that is no signature line: {line[:60]!r}"
            )
    return lines
