"""Domain errors. Each class names what happened; its docstring states the rule that was broken.

HTTP status codes do not live here: ``app/problems.py`` maps these classes to RFC 9457 problems.
Every error carries ``rule`` (a short stable identifier of the rule) and ``details`` (extension
members such as the offending serial range or quantities).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class LedgerError(Exception):
    """Base class of every error raised by the domain core."""

    rule: ClassVar[str] = "ledger"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: Mapping[str, Any] = details


class NotFound(LedgerError):
    """A referenced record does not exist."""

    rule = "not-found"


class Conflict(LedgerError):
    """The request conflicts with the current state of the ledger."""

    rule = "conflict"


class RuleViolation(LedgerError):
    """An Article 6.2 accounting rule would be broken; nothing was recorded."""

    rule = "article6"


class InvalidInput(LedgerError):
    """The input is well-formed but its values are not acceptable to the domain."""

    rule = "invalid-input"


class IntegrityError(LedgerError):
    """Stored data does not verify: hashes, chain links or Merkle nodes were altered."""

    rule = "integrity"


class ProofError(LedgerError):
    """A Merkle proof, checkpoint or signature failed verification."""

    rule = "proof"
