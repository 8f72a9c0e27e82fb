"""Requests and responses of the JCM's Joint Committee decisions."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from app.schemas.base import (
    AccountId,
    CaId,
    LedgerDate,
    PartyCode,
    Quantity,
    RegistryId,
    RequestModel,
    ResponseModel,
    ShortText,
)
from ledger.registry.services import DecisionShare, JcDecision, Recipient, RecordedDecision


class DecisionShareIn(RequestModel):
    recipient: Recipient = Field(description="government or project participants")
    party: PartyCode = Field(description="The government's Party, or the participants' host")
    account_id: AccountId
    quantity: Quantity


class JcDecisionCreate(RequestModel):
    """A Joint Committee decision on issuance: the project and monitoring period, the total
    quantity of credits and its split between the governments and the project participants,
    each share to a holding account of the issuing registry."""

    decision_id: ShortText
    ca_id: CaId
    registry_id: RegistryId
    project_id: ShortText
    monitoring_from: LedgerDate
    monitoring_to: LedgerDate
    decided_on: LedgerDate
    total: Quantity
    shares: list[DecisionShareIn] = Field(min_length=1, max_length=20)

    def to_domain(self) -> JcDecision:
        return JcDecision(
            decision_id=self.decision_id,
            ca_id=self.ca_id,
            registry_id=self.registry_id,
            project_id=self.project_id,
            monitoring_from=self.monitoring_from,
            monitoring_to=self.monitoring_to,
            decided_on=self.decided_on,
            total=self.total,
            shares=tuple(
                DecisionShare(s.recipient, s.party, s.account_id, s.quantity) for s in self.shares
            ),
        )


class DecisionSharePublic(ResponseModel):
    recipient: str
    party: str
    account_id: str
    quantity: int
    issued: int
    remaining: int


class JcDecisionPublic(ResponseModel):
    decision_id: str
    ca_id: str
    registry_id: str
    project_id: str
    monitoring_from: date
    monitoring_to: date
    decided_on: date
    total: int
    issued: int
    shares: list[DecisionSharePublic]
    seq: int = Field(description="Seq of the jcm.decision.recorded entry")

    @classmethod
    def of(cls, recorded: RecordedDecision) -> JcDecisionPublic:
        d = recorded.decision
        return cls(
            decision_id=d.decision_id,
            ca_id=d.ca_id,
            registry_id=d.registry_id,
            project_id=d.project_id,
            monitoring_from=d.monitoring_from,
            monitoring_to=d.monitoring_to,
            decided_on=d.decided_on,
            total=d.total,
            issued=sum(recorded.issued.values()),
            shares=[
                DecisionSharePublic(
                    recipient=s.recipient.value,
                    party=s.party,
                    account_id=s.account_id,
                    quantity=s.quantity,
                    issued=recorded.issued.get(s.account_id, 0),
                    remaining=s.quantity - recorded.issued.get(s.account_id, 0),
                )
                for s in d.shares
            ],
            seq=recorded.seq,
        )
