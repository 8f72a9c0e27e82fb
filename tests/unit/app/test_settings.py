"""Deployment settings of the accounting policy from ``A6LEDGER_*`` environment variables."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.settings import Settings
from ledger.accounting.adjustments import DEFAULT_POLICY, AdjustmentPolicy, AveragingBasis


def test_the_accounting_policy_defaults_to_the_documented_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("AVERAGING_BASIS", "ELAPSED_YEARS_INCLUSIVE", "OIMP_FIRST_TRANSFERS_IN_NET"):
        monkeypatch.delenv(f"A6LEDGER_{name}", raising=False)
    assert Settings(_env_file=None).adjustment_policy == DEFAULT_POLICY


def test_the_accounting_policy_is_set_per_deployment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("A6LEDGER_AVERAGING_BASIS", "separate")
    monkeypatch.setenv("A6LEDGER_ELAPSED_YEARS_INCLUSIVE", "false")
    monkeypatch.setenv("A6LEDGER_OIMP_FIRST_TRANSFERS_IN_NET", "false")
    policy = Settings(_env_file=None).adjustment_policy
    assert policy == AdjustmentPolicy(AveragingBasis.SEPARATE, False, False)
    assert policy.chosen_by_party == ()
    monkeypatch.setenv("A6LEDGER_AVERAGING_BASIS", "median")
    with pytest.raises(ValidationError, match="averaging_basis"):
        Settings(_env_file=None)


def test_the_btr_reporting_an_ndc_period_end_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Years from an NDC period's last year to the BTR that reports it (the OIMP first-transfer
    deadline is 31 December of the year before): 2 by default."""
    monkeypatch.delenv("A6LEDGER_END_OF_PERIOD_BTR_AFTER", raising=False)
    assert Settings(_env_file=None).end_of_period_btr_after == 2
    monkeypatch.setenv("A6LEDGER_END_OF_PERIOD_BTR_AFTER", "3")
    assert Settings(_env_file=None).end_of_period_btr_after == 3
    monkeypatch.setenv("A6LEDGER_END_OF_PERIOD_BTR_AFTER", "0")
    with pytest.raises(ValidationError, match="end_of_period_btr_after"):
        Settings(_env_file=None)


def test_trusted_proxies_are_addresses_or_networks_separated_by_commas(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("A6LEDGER_TRUSTED_PROXIES", raising=False)
    assert Settings(_env_file=None).trusted_proxy_networks == ()
    monkeypatch.setenv("A6LEDGER_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1 ,2001:db8::/32")
    assert [str(n) for n in Settings(_env_file=None).trusted_proxy_networks] == [
        "10.0.0.0/8",
        "127.0.0.1/32",
        "2001:db8::/32",
    ]
    monkeypatch.setenv("A6LEDGER_TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal")
    with pytest.raises(ValidationError, match="'proxy.internal' is not an address or network"):
        Settings(_env_file=None)
