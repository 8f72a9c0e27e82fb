"""Admission to the database: a bounded number of requests at a time, and a brake on failed
authentication per client address.

Every request that touches the database holds one *database permit* from before its first
statement until its response is sent. A request uses at most one pooled connection at a time
(authentication looks the token up and gives its connection back before the route's unit of
work takes one), so with no more permits than the pool holds connections, no request ever
waits for the pool: the pool cannot deadlock and never times out. A request that finds every
permit taken waits for one in turn (first come, first served) for at most
``db_queue_timeout`` seconds, then gets a 503 problem with ``Retry-After``.

Failed authentication (a bearer token that is unknown, malformed or revoked, also one found
revoked by the transaction of its queued write) is counted per client address in a token
bucket: ``auth_failure_limit`` failures, refilled over ``auth_failure_window`` seconds. While an
address's bucket is empty, its requests that carry a bearer token get a 429 problem with
``Retry-After`` before any database work. The client address is the connection's peer, or,
when the peer is one of the ``trusted_proxies``, the address that proxy (and any trusted proxy
before it) names in ``X-Forwarded-For`` (:func:`client_address`).
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Annotated

from fastapi import Depends, Request

from app.problems import RetryLater
from ledger.ports import Storage

RETRY_AFTER_BUSY_SECONDS = 1
TRACKED_ADDRESSES = 10_000
"""At most this many client addresses are tracked; the least recently seen are forgotten."""


class DatabaseBusy(RetryLater):
    """503: every database permit stayed taken for the whole queue timeout."""

    def __init__(self, waited: float) -> None:
        super().__init__(
            503,
            f"the service is at capacity: no database slot became free within {waited:g} s; "
            "retry later",
            rule="database-capacity",
            retry_after=RETRY_AFTER_BUSY_SECONDS,
        )


class AuthenticationThrottled(RetryLater):
    """429: too many failed authentication attempts from this client address."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            429,
            "too many failed authentication attempts from this address; retry later",
            rule="failed-authentication-limit",
            retry_after=retry_after,
        )


class Slots:
    """At most ``limit`` holders at once; a newcomer waits its turn (first come, first served)
    for at most ``timeout`` seconds, then gets the exception ``busy()`` makes.

    The semaphore belongs to the event loop that first uses it (a new loop, as in tests that
    start the app more than once, gets a new one)."""

    def __init__(self, limit: int, timeout: float, busy: Callable[[], Exception]) -> None:
        self.limit = limit
        self.timeout = timeout
        self._busy = busy
        self._semaphore: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.in_use = 0
        """Slots taken now (for tests and diagnostics)."""

    def _current(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._semaphore is None or self._loop is not loop:
            self._semaphore = asyncio.Semaphore(self.limit)
            self._loop = loop
        return self._semaphore

    async def acquire(self) -> None:
        semaphore = self._current()
        try:
            async with asyncio.timeout(self.timeout):
                await semaphore.acquire()
        except TimeoutError:
            raise self._busy() from None
        self.in_use += 1

    def release(self) -> None:
        self.in_use -= 1
        if self._semaphore is not None:
            self._semaphore.release()

    @asynccontextmanager
    async def permit(self) -> AsyncIterator[None]:
        """Hold one slot inside the ``async with`` block."""
        await self.acquire()
        try:
            yield
        finally:
            self.release()


class DatabaseAdmission(Slots):
    """At most ``limit`` requests use the database at once; the others queue for at most
    ``timeout`` seconds, then get :class:`DatabaseBusy`."""

    def __init__(self, limit: int, timeout: float) -> None:
        super().__init__(limit, timeout, lambda: DatabaseBusy(timeout))


@dataclass
class _Bucket:
    tokens: float
    updated: float


class FailedAuthThrottle:
    """A token bucket of failed authentication attempts per client address.

    Used from the event loop (the authentication dependencies) and from the threads that run
    write routes (a token found revoked by its write's batch, :mod:`app.idempotency`), so a
    lock guards the buckets."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_addresses: int = TRACKED_ADDRESSES,
    ) -> None:
        self.limit = limit
        self.window = window
        self._rate = limit / window
        self._clock = clock
        self._max_addresses = max_addresses
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def _refilled(self, address: str) -> _Bucket | None:
        bucket = self._buckets.get(address)
        if bucket is None:
            return None
        now = self._clock()
        bucket.tokens = min(self.limit, bucket.tokens + (now - bucket.updated) * self._rate)
        bucket.updated = now
        if bucket.tokens >= self.limit:
            del self._buckets[address]
            return None
        return bucket

    def retry_after(self, address: str) -> int | None:
        """Seconds until ``address`` may try again, or ``None`` while it has attempts left."""
        with self._lock:
            bucket = self._refilled(address)
            if bucket is None or bucket.tokens >= 1:
                return None
            return max(1, math.ceil((1 - bucket.tokens) / self._rate))

    def record_failure(self, address: str) -> None:
        with self._lock:
            bucket = self._refilled(address)
            if bucket is None:
                bucket = _Bucket(tokens=float(self.limit), updated=self._clock())
                self._buckets[address] = bucket
                while len(self._buckets) > self._max_addresses:
                    self._buckets.popitem(last=False)
            self._buckets.move_to_end(address)
            bucket.tokens = max(0.0, bucket.tokens - 1)


Networks = tuple[IPv4Network | IPv6Network, ...]


def _trusted(address: str, proxies: Networks) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in proxies)


def forwarded_client(peer: str, forwarded_for: list[str], proxies: Networks) -> str:
    """The client address of a request from ``peer`` with these ``X-Forwarded-For`` headers.

    Only a trusted proxy's word counts: starting at the peer, each trusted hop's right-most
    remaining ``X-Forwarded-For`` entry is the address before it; the first address that is not a
    trusted proxy is the client. Entries left of it were written by the client itself and are
    ignored; an entry that is not an IP address ends the walk at the last trusted hop."""
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    address = peer
    while _trusted(address, proxies) and hops:
        hop = hops.pop()
        try:
            address = str(ip_address(hop))
        except ValueError:
            return address
    return address


def client_address(request: Request) -> str:
    """The address failed authentications are counted against: the connection's peer, or the
    client a trusted proxy forwarded the request for (``A6LEDGER_TRUSTED_PROXIES``)."""
    if request.client is None:
        return "unknown"
    proxies: Networks = request.app.state.trusted_proxies
    if not proxies:
        return request.client.host
    return forwarded_client(
        request.client.host, request.headers.getlist("x-forwarded-for"), proxies
    )


def has_bearer_credentials(request: Request) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())


def throttle_of(request: Request) -> FailedAuthThrottle:
    throttle: FailedAuthThrottle = request.app.state.auth_throttle
    return throttle


async def refuse_throttled_callers(request: Request) -> None:
    """429 for a request that carries a bearer token from an address that failed too often."""
    if not has_bearer_credentials(request):
        return
    retry_after = throttle_of(request).retry_after(client_address(request))
    if retry_after is not None:
        raise AuthenticationThrottled(retry_after)


async def get_storage(request: Request) -> AsyncIterator[Storage]:
    """The service's storage, for a request that holds one database permit for the rest of
    the request (see :class:`DatabaseAdmission`). One dependency, not a permit dependency
    under a storage one: each level of the dependency graph costs every request CPU."""
    admission: DatabaseAdmission = request.app.state.db_admission
    storage: Storage = request.app.state.storage
    async with admission.permit():
        yield storage


StorageDep = Annotated[Storage, Depends(get_storage)]
