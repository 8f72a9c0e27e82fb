"""The accounting policy of a Party's reports: the deployment's settings, with the Party's
recorded choice of the settings the decisions leave to it winning over them; every report says
which it used."""

from __future__ import annotations

import pytest

from ledger.accounting import reporting
from ledger.accounting.adjustments import AdjustmentPolicy, AveragingBasis
from ledger.errors import InvalidInput, PartyNotFound
from tests.fakes import FakeUnitOfWork
from tests.registry_world import ADMIN
from tests.unit.registry.in_memory import act, kinds_since

DEPLOYMENT = AdjustmentPolicy(
    averaging_basis=AveragingBasis.SEPARATE,
    elapsed_years_inclusive=True,
    oimp_first_transfers_in_net=False,
)


def test_the_partys_choice_wins_over_the_deployments(uow: FakeUnitOfWork) -> None:
    assert reporting.adjustments_for(uow, "JPN", DEPLOYMENT).policy.chosen_by_party == ()
    start = uow.log.size()
    appended = act(
        uow,
        lambda u: reporting.record_policy_choice(u, "JPN", ADMIN, elapsed_years_inclusive=False),
    )
    assert kinds_since(uow, start) == [reporting.POLICY_CHOSEN]
    used = reporting.adjustments_for(uow, "JPN", DEPLOYMENT).policy
    assert used == AdjustmentPolicy(AveragingBasis.SEPARATE, False, False)
    assert used.chosen_by_party == ("elapsed_years_inclusive",)
    assert used.party_choice_seq == appended.seq
    # Under the Party's reading no year has elapsed in 2021: no indicative average.
    assert reporting.adjustments_for(uow, "JPN", DEPLOYMENT).row(2021).average is None
    # Other Parties keep the deployment's settings.
    assert reporting.adjustments_for(uow, "THA", DEPLOYMENT).policy.chosen_by_party == ()
    # A later choice supersedes the whole earlier one.
    act(
        uow,
        lambda u: reporting.record_policy_choice(
            u, "JPN", ADMIN, averaging_basis=AveragingBasis.NET
        ),
    )
    used = reporting.adjustments_for(uow, "JPN", DEPLOYMENT).policy
    assert used == AdjustmentPolicy(AveragingBasis.NET, True, False)
    assert used.chosen_by_party == ("averaging_basis",)


def test_every_report_states_the_policy_it_used(uow: FakeUnitOfWork) -> None:
    choice = act(
        uow,
        lambda u: reporting.record_policy_choice(u, "JPN", ADMIN, elapsed_years_inclusive=False),
    )
    summary = reporting.structured_summary_for(uow, "JPN", DEPLOYMENT)
    assert summary.policy.chosen_by_party == ("elapsed_years_inclusive",)
    disclosure = summary.row("MPG 77(d)(iii)").note
    assert f"Chosen by the Party (ledger entry {choice.seq}): elapsed_years_inclusive" in disclosure
    assert "completed before the reporting year" in disclosure
    # Restatements compare figures under the policy in force now, so they compute across a
    # change of choice.
    assert reporting.restated_since(uow, "JPN", choice.seq, DEPLOYMENT) == []


def test_a_choice_is_for_a_registered_party_and_valid(uow: FakeUnitOfWork) -> None:
    with pytest.raises(PartyNotFound):
        act(uow, lambda u: reporting.record_policy_choice(u, "KOR", ADMIN))
    with pytest.raises(InvalidInput, match="averaging_basis must be one of"):
        act(
            uow,
            lambda u: reporting.record_policy_choice(
                u,
                "JPN",
                ADMIN,
                averaging_basis="median",  # type: ignore[arg-type]
            ),
        )
