"""Joint Committee decisions of the Joint Crediting Mechanism (JCM) as ledger entries, and
issuance that follows them.

The Joint Committee of a JCM partnership decides each issuance: for a project and a monitoring
period, the total quantity of credits and its split between the governments and the project
participants, each share to an account. :func:`record_decision` records one as a
``jcm.decision.recorded`` entry. An issuance that cites a recorded decision
(``Issuance.decision_reference``) must follow it (:func:`check_follows_decision`): the issuing
registry and cooperative approach of the decision, a vintage within the monitoring period, only
the decision's accounts, and, with every earlier issuance citing it, no more than each share
(:class:`DecisionQuantityExceeded`). A government's share may go directly to a holding account
of that government's registry hosted here (e.g. Japan's share into JPN01): the issuance then
records the partner's first transfer to it (its first international transfer) and the
acquisition (``services.issuance``). Replay (``ledger.registry.audit``) re-checks all of it.
A reference that names no recorded decision stays free text,
as before decisions were recorded.

Each recorded decision has a projection row (``jc_decision``, written by ``apply_entry`` in the
same transaction as the entry): the decision and the quantity issued so far to each of its
accounts by the issuances citing it after it was recorded, as the replay counts them. An issuance
citing a decision reads that one row, so its cost does not grow with the log or with the number
of issuances under the decision; ``verify-db`` compares every row with a replay of the log.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from ledger.errors import (
    AccountTypeMismatch,
    AlreadyRegistered,
    InvalidInput,
    NotFound,
    RuleViolation,
)
from ledger.log.canonical import JsonValue
from ledger.ports import UnitOfWork
from ledger.recording import record_entry
from ledger.registry.codec import to_json
from ledger.registry.model import AccountType, UnitAttributes
from ledger.registry.projection import JC_DECISION_RECORDED as JC_DECISION_RECORDED
from ledger.registry.services.lookups import account_of, approach_of, registry_of


class DecisionQuantityExceeded(RuleViolation):
    """An issuance would exceed what the Joint Committee decided for a share."""

    problem_type = "jc-decision-quantity-exceeded"
    title = "An issuance would exceed the quantity the Joint Committee decided"
    rule = "issuance-within-jc-decision"


class IssuanceOutsideDecision(RuleViolation):
    """An issuance citing a Joint Committee decision goes elsewhere than the decision says
    (another registry, approach, monitoring period or account)."""

    problem_type = "issuance-outside-jc-decision"
    title = "An issuance citing a Joint Committee decision does not follow it"
    rule = "issuance-follows-jc-decision"


class DecisionNotFound(NotFound):
    """No Joint Committee decision with that identifier was recorded."""

    problem_type = "jc-decision-not-found"
    title = "No Joint Committee decision with that identifier was recorded"
    rule = "jc-decision-exists"


class Recipient(StrEnum):
    """Whom a share of the credits goes to."""

    GOVERNMENT = "government"
    PROJECT_PARTICIPANTS = "project participants"


@dataclass(frozen=True, slots=True)
class DecisionShare:
    """A share of the decided credits: to ``account_id``, for ``party``'s government or for the
    project participants."""

    recipient: Recipient
    party: str
    account_id: str
    quantity: int


@dataclass(frozen=True, slots=True)
class JcDecision:
    """A Joint Committee decision on issuance: project, monitoring period, total, split."""

    decision_id: str
    ca_id: str
    registry_id: str
    project_id: str
    monitoring_from: date
    monitoring_to: date
    decided_on: date
    total: int
    shares: tuple[DecisionShare, ...]


@dataclass(frozen=True, slots=True)
class RecordedDecision:
    decision: JcDecision
    seq: int
    issued: Mapping[str, int]
    """Quantity issued so far per account under the decision."""


def read_decision(payload: Mapping[str, Any]) -> JcDecision:
    d = payload["decision"]
    return JcDecision(
        decision_id=str(d["decision_id"]),
        ca_id=str(d["ca_id"]),
        registry_id=str(d["registry_id"]),
        project_id=str(d["project_id"]),
        monitoring_from=date.fromisoformat(d["monitoring_from"]),
        monitoring_to=date.fromisoformat(d["monitoring_to"]),
        decided_on=date.fromisoformat(d["decided_on"]),
        total=int(d["total"]),
        shares=tuple(
            DecisionShare(
                Recipient(s["recipient"]), str(s["party"]), str(s["account_id"]), int(s["quantity"])
            )
            for s in d["shares"]
        ),
    )


def find_decision(uow: UnitOfWork, decision_id: str) -> RecordedDecision | None:
    """The recorded decision ``decision_id`` and what was issued under it, or ``None``: one
    read of its projection row (``jc_decision``), whatever the size of the log."""
    record = uow.projection.get_decision(decision_id)
    if record is None:
        return None
    issued = {str(account_id): int(quantity) for account_id, quantity in record["issued"].items()}
    return RecordedDecision(read_decision(record), int(record["recorded_seq"]), issued)


def decision_of(uow: UnitOfWork, decision_id: str) -> RecordedDecision:
    recorded = find_decision(uow, decision_id)
    if recorded is None:
        raise DecisionNotFound(
            f"no Joint Committee decision {decision_id} is recorded", decision_id=decision_id
        )
    return recorded


def record_decision(uow: UnitOfWork, decision: JcDecision, actor: str) -> int:
    """Record a Joint Committee decision on issuance; returns the entry's seq."""
    if not decision.decision_id.strip() or not decision.project_id.strip():
        raise InvalidInput("a decision needs its identifier and the project", field="decision_id")
    approach = approach_of(uow, decision.ca_id)
    registry = registry_of(uow, decision.registry_id)
    if registry.party not in approach.parties or not registry.hosted:
        raise InvalidInput(
            f"{decision.registry_id} is not a registry hosted here of a Party of {decision.ca_id}",
            field="registry_id",
        )
    if decision.monitoring_from > decision.monitoring_to:
        raise InvalidInput("the monitoring period ends before it starts", field="monitoring_to")
    if decision.decided_on < decision.monitoring_to or decision.decided_on > uow.now().date():
        raise InvalidInput(
            "a decision is taken after its monitoring period ends, and not in the future",
            field="decided_on",
        )
    if not decision.shares:
        raise InvalidInput("a decision splits its total into shares", field="shares")
    for share in decision.shares:
        account = account_of(uow, share.account_id)
        if account.registry_id != registry.registry_id:
            # Direct issuance: a government's share into a registry of its own, hosted here.
            target = registry_of(uow, account.registry_id)
            if (
                share.recipient is not Recipient.GOVERNMENT
                or target.party != share.party
                or not target.hosted
            ):
                raise AccountTypeMismatch(
                    f"a share is issued to a holding account of {registry.registry_id}, or, "
                    "directly, a government's share to a registry of that government hosted "
                    "here",
                    account_id=share.account_id,
                )
        if account.account_type is not AccountType.HOLDING:
            raise AccountTypeMismatch(
                f"a share is issued to a holding account of {registry.registry_id}",
                account_id=share.account_id,
            )
        if share.quantity <= 0:
            raise InvalidInput("each share needs a positive quantity", field="shares")
        if share.party not in approach.parties:
            raise InvalidInput(f"{share.party} is not a Party of {decision.ca_id}", field="shares")
    accounts = [s.account_id for s in decision.shares]
    if len(set(accounts)) != len(accounts):
        raise InvalidInput("one share per account", field="shares")
    if sum(s.quantity for s in decision.shares) != decision.total:
        raise InvalidInput(
            f"the shares add up to {sum(s.quantity for s in decision.shares)}, not the total "
            f"{decision.total}",
            field="total",
        )
    if find_decision(uow, decision.decision_id) is not None:
        raise AlreadyRegistered(f"decision {decision.decision_id} is already recorded")
    payload: dict[str, JsonValue] = {"decision": to_json(decision)}
    return record_entry(uow, JC_DECISION_RECORDED, payload, actor).seq


def check_follows_decision(
    uow: UnitOfWork,
    reference: str | None,
    registry_id: str,
    attributes: UnitAttributes,
    shares: Sequence[tuple[str, int]],
) -> RecordedDecision | None:
    """An issuance of ``shares`` (account, quantity) citing ``reference`` follows the recorded
    decision of that identifier, if there is one (see the module); returns it."""
    if reference is None:
        return None
    recorded = find_decision(uow, reference)
    if recorded is None:
        return None
    decision = recorded.decision
    if (registry_id, attributes.ca_id) != (decision.registry_id, decision.ca_id):
        raise IssuanceOutsideDecision(
            f"decision {decision.decision_id} is for {decision.ca_id} in {decision.registry_id}",
            decision_id=decision.decision_id,
        )
    if not decision.monitoring_from.year <= attributes.vintage <= decision.monitoring_to.year:
        raise IssuanceOutsideDecision(
            f"vintage {attributes.vintage} is outside the monitoring period "
            f"{decision.monitoring_from.isoformat()} to {decision.monitoring_to.isoformat()}",
            decision_id=decision.decision_id,
        )
    decided = {s.account_id: s.quantity for s in decision.shares}
    asked: dict[str, int] = defaultdict(int)
    for account_id, quantity in shares:
        if account_id not in decided:
            raise IssuanceOutsideDecision(
                f"decision {decision.decision_id} issues nothing to {account_id}",
                decision_id=decision.decision_id,
                account_id=account_id,
            )
        asked[account_id] += quantity
    for account_id, quantity in asked.items():
        already = recorded.issued.get(account_id, 0)
        if already + quantity > decided[account_id]:
            raise DecisionQuantityExceeded(
                f"decision {decision.decision_id} decided {decided[account_id]} for "
                f"{account_id}; {already} issued, {quantity} more asked",
                decision_id=decision.decision_id,
                account_id=account_id,
                decided=decided[account_id],
                issued=already,
                asked=quantity,
            )
    return recorded
