"""The brake on failed authentication per client address, and the database permits."""

from __future__ import annotations

import asyncio
from ipaddress import ip_network

import pytest

from app.admission import DatabaseAdmission, DatabaseBusy, FailedAuthThrottle, forwarded_client


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


PROXIES = (ip_network("10.0.0.0/8"), ip_network("2001:db8::/32"))


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        # No trusted peer: the header is the caller's own word and is ignored.
        ("198.51.100.7", ["203.0.113.5"], "198.51.100.7"),
        # A trusted proxy names its client.
        ("10.0.0.2", ["203.0.113.5"], "203.0.113.5"),
        # Entries left of the first untrusted hop were written by the client: ignored.
        ("10.0.0.2", ["1.1.1.1, 203.0.113.5"], "203.0.113.5"),
        # Two trusted proxies in a row, over two header lines.
        ("10.0.0.2", ["203.0.113.5", "10.1.1.1"], "203.0.113.5"),
        ("2001:db8::1", ["2001:db8::2, 2001:db8:ffff::9, 2001:0db9::5"], "2001:db9::5"),
        # A trusted proxy without a header, or a chain of trusted hops only: the last one.
        ("10.0.0.2", [], "10.0.0.2"),
        ("10.0.0.2", ["10.0.0.3"], "10.0.0.3"),
        # Garbage ends the walk at the last trusted hop.
        ("10.0.0.2", ["203.0.113.5, not-an-address"], "10.0.0.2"),
        ("10.0.0.2", ["not-an-address, 10.0.0.4"], "10.0.0.4"),
        # A peer that is not an IP address (a Unix socket, a test client) is never trusted.
        ("testclient", ["203.0.113.5"], "testclient"),
    ],
)
def test_the_client_address_comes_from_x_forwarded_for_only_through_trusted_proxies(
    peer: str, forwarded_for: list[str], client: str
) -> None:
    assert forwarded_client(peer, forwarded_for, PROXIES) == client
