"""Fixtures shared by the C2SP tests: a log key pair and a partner registry's signer key."""

from __future__ import annotations

import pytest

from ledger.log.keys import generate_signer
from tests.unit.log.known_keys import ORIGIN, PARTNER


@pytest.fixture(scope="module")
def log_keys() -> tuple[str, str]:
    return generate_signer(ORIGIN)


@pytest.fixture(scope="module")
def partner_skey() -> str:
    return generate_signer(PARTNER)[0]
