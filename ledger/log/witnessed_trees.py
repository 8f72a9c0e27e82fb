"""The largest trees of this log that its partner witnesses cosigned: the memory of the signed
trees that no database restore and no new host can erase (docs/architecture.md, "Signed
checkpoints across replicas").

Each partner witness (``A6LEDGER_WITNESS_PARTNERS``) is asked what it last cosigned for this
log's origin (``ledger.adapters.witness_http.ask_witness``): an a6ledger witness shows the
signed checkpoint itself (``GET <prefix>/checkpoint``), any other C2SP tlog-witness names its
size in a 409 answer to an add-checkpoint of the empty tree. :class:`WitnessedTrees` keeps the
answers for a while and :meth:`WitnessedTrees.check` refuses to sign when the stored log does
not hold a tree a witness cosigned: smaller than the witnessed size, or another root at that
size. A witness that does not answer is reported and ignored, unless it is configured as
required: then nothing is signed until it answers.

It is a :class:`~ledger.log.checkpoints.CheckpointState` layer (``guard_consistency`` calls
:meth:`WitnessedTrees.check`); signing records nothing here, since the witnesses learn new
trees from ``a6ledger witness push``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ledger.errors import StoredLogRefused
from ledger.log.encoding import b64encode
from ledger.ports import LedgerLog


class WitnessedTreeMissing(StoredLogRefused):
    """A partner witness cosigned a tree of this log that the stored log does not hold (it is
    smaller, or has another root at that size): the database went back behind a published
    tree, so the log refuses to sign until it is restored."""

    problem_type = "witnessed-tree-missing"
    title = "A witness cosigned a tree of this log that the stored log does not hold"
    rule = "never-sign-inconsistent-checkpoints"


class RequiredWitnessSilent(StoredLogRefused):
    """A witness configured as required (``"required": true``) did not say what it cosigned:
    the log does not sign until it does."""

    problem_type = "required-witness-silent"
    title = "A required witness did not say what it cosigned of this log"
    rule = "required-witness-answers"


@dataclass(frozen=True, slots=True)
class WitnessView:
    """What one witness said it last cosigned of this log: ``size`` (0: nothing yet) and, when
    the witness showed the signed checkpoint, its ``root``; ``size is None`` when it did not
    answer, and ``detail`` says why."""

    witness: str
    required: bool
    size: int | None
    root: bytes | None = None
    detail: str = ""

    @property
    def answered(self) -> bool:
        return self.size is not None


def refusal(log: LedgerLog, views: Sequence[WitnessView]) -> StoredLogRefused | None:
    """The reason the stored ``log`` must not be signed given the witnesses' ``views``, or
    ``None``. One reason: the first witness (largest tree first) whose tree is missing."""
    size = log.size()
    answered = sorted((v for v in views if v.size is not None), key=lambda v: -(v.size or 0))
    for view in answered:
        witnessed = view.size or 0
        if witnessed > size:
            return WitnessedTreeMissing(
                f"witness {view.witness} cosigned tree size {witnessed} of this log but the "
                f"stored log holds {size} entries: the database went back behind a published "
                "tree; refusing to sign; restore it and run `a6ledger verify-db`",
                witness=view.witness,
                witnessed_size=witnessed,
                tree_size=size,
            )
        if view.root is not None and witnessed > 0 and log.root(witnessed) != view.root:
            return WitnessedTreeMissing(
                f"witness {view.witness} cosigned tree size {witnessed} of this log with root "
                f"{b64encode(view.root)}, but the stored log has another root at that size: "
                "the history was rewritten; refusing to sign; restore it and run "
                "`a6ledger verify-db`",
                witness=view.witness,
                witnessed_size=witnessed,
                tree_size=size,
            )
    for view in views:
        if view.required and view.size is None:
            return RequiredWitnessSilent(
                f"required witness {view.witness} did not say what it cosigned of this log "
                f"({view.detail}): refusing to sign until it answers",
                witness=view.witness,
            )
    return None


class WitnessedTrees:
    """The witnesses' views of this log, asked through ``ask`` at the first need and again once
    they are ``max_age`` seconds old (by ``clock``); one asking at a time."""

    def __init__(
        self,
        ask: Callable[[], list[WitnessView]],
        clock: Callable[[], float],
        max_age: float,
    ) -> None:
        self._ask = ask
        self._clock = clock
        self._max_age = max_age
        self._lock = threading.Lock()
        self._views: list[WitnessView] | None = None
        self._asked_at = 0.0

    def views(self) -> list[WitnessView]:
        """The witnesses' views, asked again when older than ``max_age``."""
        with self._lock:
            now = self._clock()
            if self._views is None or now - self._asked_at >= self._max_age:
                self._views = self._ask()
                self._asked_at = now
            return self._views

    def check(self, log: LedgerLog) -> None:
        """Raise the reason the stored ``log`` must not be signed (:func:`refusal`), if any."""
        reason = refusal(log, self.views())
        if reason is not None:
            raise reason

    def last_signed(self) -> tuple[int, bytes] | None:
        """``None``: the witnesses' trees are checked by :meth:`check`, which names the
        witness."""
        return None

    def record_signed(self, size: int, root: bytes) -> None:
        """Nothing: witnesses learn this log's trees from ``a6ledger witness push``."""
