"""The brake on failed authentication per client address, and the database permits."""

from __future__ import annotations

import asyncio

import pytest

from app.admission import DatabaseAdmission, DatabaseBusy, FailedAuthThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_address_is_refused_after_its_failures_and_recovers_as_the_bucket_refills() -> None:
    clock = Clock()
    throttle = FailedAuthThrottle(3, 30.0, clock=clock)
    for _ in range(3):
        assert throttle.retry_after("10.0.0.1") is None
        throttle.record_failure("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 10
    assert throttle.retry_after("10.0.0.2") is None
    clock.now += 9.5
    assert throttle.retry_after("10.0.0.1") == 1
    clock.now += 0.5
    assert throttle.retry_after("10.0.0.1") is None
    throttle.record_failure("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 10


def test_a_full_bucket_is_forgotten_and_the_tracked_addresses_are_bounded() -> None:
    clock = Clock()
    throttle = FailedAuthThrottle(1, 10.0, clock=clock, max_addresses=2)
    for address in ("a", "b", "c"):
        throttle.record_failure(address)
    assert throttle.retry_after("a") is None
    assert throttle.retry_after("c") == 10
    clock.now += 10
    assert throttle.retry_after("c") is None
    assert throttle.retry_after("b") is None


def test_permits_are_bounded_and_a_waiter_gives_up_after_the_timeout() -> None:
    admission = DatabaseAdmission(limit=2, timeout=0.05)

    async def scenario() -> None:
        async with admission.permit(), admission.permit():
            assert admission.in_use == 2
            with pytest.raises(DatabaseBusy) as caught:
                async with admission.permit():
                    pass  # pragma: no cover
            assert caught.value.status_code == 503
            assert caught.value.headers == {"Retry-After": "1"}
        assert admission.in_use == 0
        async with admission.permit():
            assert admission.in_use == 1

    asyncio.run(scenario())
    asyncio.run(scenario())  # a new event loop gets a new semaphore
