"""JCM: a Joint Committee decision that issues Japan's share directly into Japan's registry.
The partner's first transfer to Japan is recorded at that issuance, Japan's registry records the
acquisition, and issuance never exceeds the decision (service and replay)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy import Engine

from ledger.accounting import aef, reporting
from ledger.errors import AccountTypeMismatch, LedgerError, UnitsNotAuthorized
from ledger.ports import UnitOfWork
from ledger.registry import services
from tests.integration.registry.test_jcm_scenario import assert_projection_is_a_replay
from tests.integration.registry.world import (
    assert_nothing_changed,
    blocks_in,
    kinds_since,
    read,
    size,
    write,
)
from tests.registry_world import attributes, authorization

THA_NDC = "THA-NDC"
DECISION = services.JcDecision(
    decision_id="JC9-TH002-MP1",
    ca_id="CA0001",
    registry_id="THA01",
    project_id="TH002",
    monitoring_from=date(2025, 1, 1),
    monitoring_to=date(2025, 12, 31),
    decided_on=date(2026, 2, 1),
    total=100,
    shares=(
        services.DecisionShare(services.Recipient.GOVERNMENT, "JPN", "JPN01-GOV", 60),
        services.DecisionShare(services.Recipient.PROJECT_PARTICIPANTS, "THA", "THA01-PP", 40),
    ),
)


def issuance(
    *shares: services.IssuanceShare, reference: str | None = DECISION.decision_id
) -> services.Issuance:
    return services.Issuance("THA01", attributes("THA01", "CA0001", 2025), shares, reference)


def test_japans_share_issued_directly_into_japans_registry(world: Engine) -> None:
    def decide(uow: UnitOfWork) -> None:
        services.record_authorization(
            uow, authorization(THA_NDC, authorized_parties=("JPN",)), "THA01"
        )
        services.record_decision(uow, DECISION, "THA01")

    write(world, decide)
    japan = services.IssuanceShare("JPN01-GOV", 60, THA_NDC)
    # Into another Party's registry only where a recorded decision says so, and authorized.
    refusals: list[tuple[services.Issuance, type[LedgerError], str]] = [
        (issuance(japan, reference=None), AccountTypeMismatch, "account-type"),
        (issuance(japan, reference="JC-unrecorded"), AccountTypeMismatch, "account-type"),
        (
            issuance(replace(japan, authorization_id=None)),
            UnitsNotAuthorized,
            "authorization-before-first-transfer",
        ),
    ]
    for refused, error, rule in refusals:
        assert_nothing_changed(
            world,
            lambda uow, refused=refused: services.issue(uow, refused, "THA01"),  # type: ignore[misc]
            error,
            rule,
        )

    start = size(world)
    write(
        world,
        lambda uow: services.issue(
            uow, issuance(japan, services.IssuanceShare("THA01-PP", 40)), "THA01"
        ),
    )
    # Issuance, then Thailand's first transfer to Japan and Japan's acquisition, at issuance.
    assert kinds_since(world, start) == ["mo.issued", "itmo.first_transfer", "itmo.acquisition"]
    (held,) = blocks_in(world, "JPN01-GOV")
    assert (held.quantity, held.attributes.first_transferring_party) == (60, "THA")
    assert held.first_transfer_seq == start + 1
    assert held.authorization_version == 1
    assert [b.quantity for b in blocks_in(world, "THA01-PP")] == [40]

    # The decision's shares are used up: one more unit to either account is refused.
    for share in (
        services.IssuanceShare("JPN01-GOV", 1, THA_NDC),
        services.IssuanceShare("THA01-PP", 1),
    ):
        assert_nothing_changed(
            world,
            lambda uow, share=share: services.issue(uow, issuance(share), "THA01"),  # type: ignore[misc]
            services.DecisionQuantityExceeded,
            "issuance-within-jc-decision",
        )

    # Both AEFs report it: Thailand's first transfer to Japan, Japan's acquisition and holding.
    def aef_of(party: str) -> aef.AefReport:
        return read(world, lambda uow: reporting.aef_report_for(uow, party, 2026))

    thailand, japan_aef = aef_of("THA"), aef_of("JPN")
    assert [
        (r.action_type, r.acquiring_party_id, r.quantity)
        for r in thailand.actions
        if r.action_type is aef.ActionType.FIRST_TRANSFER
    ] == [(aef.ActionType.FIRST_TRANSFER, "JPN", 60)]
    assert [(r.action_type, r.transferring_party_id, r.quantity) for r in japan_aef.actions] == [
        (aef.ActionType.ACQUISITION, "THA", 60)
    ]
    assert [(h.registry_id, h.quantity) for h in japan_aef.holdings] == [("THA01", 60)]
    assert_projection_is_a_replay(world)
