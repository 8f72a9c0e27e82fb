"""Opaque cursor pagination over an increasing key (keyset pagination): cursors and limits.

A list route takes :data:`LimitDep` and :data:`CursorDep`, asks a repository's paged listing
method (``ledger.ports.ProjectionListing``) for the records whose key is greater than the
cursor's, in key order, at most ``limit + 1`` of them, and returns :func:`page_of` them (the
extra record tells whether there is a next page). Because a record's key never changes, pages
never skip or repeat a record, however many are added between two fetches (seqs only grow, so
a list by seq also shows every record added meanwhile)::

    @router.get("/v1/things")
    def list_things(uow: ReadUowDep, _: ReaderDep, limit: LimitDep,
                    cursor: CursorDep) -> Page[ThingPublic]:
        things = uow.listing.things(cursor.after_seq(), limit + 1)
        return page_of([ThingPublic.from_domain(t) for t in things], limit, lambda t: t.seq)

A cursor is the unpadded URL-safe base64 of the canonical JSON ``{"after":<key>}``, where the
key is a non-negative integer (a seq) or a string. Clients must treat it as opaque. Anything
else, including a non-canonical encoding of a valid cursor, is refused with a 422 problem.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field

from app.deps import SettingsDep
from ledger.errors import InvalidInput

T = TypeVar("T")

MAX_CURSOR_LENGTH = 1024
MAX_KEY_LENGTH = 512
MAX_SEQ = 2**63 - 1
CursorKey = int | str


class InvalidCursor(InvalidInput):
    """A page cursor must be one returned by this service, unchanged."""

    problem_type = "invalid-cursor"
    title = "A page cursor must be one returned by this service, unchanged"
    rule = "cursor"


class Page(BaseModel, Generic[T]):
    """One page of a list, in increasing key order."""

    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null when there is none (yet)."
    )
    limit: int = Field(description="The page size used, after bounding by the server maximum.")


def encode_cursor(after: CursorKey) -> str:
    """The opaque cursor for "items whose key is greater than ``after``"."""
    _check_key(after)
    text = json.dumps({"after": after}, separators=(",", ":"), ensure_ascii=True)
    return base64.urlsafe_b64encode(text.encode("ascii")).rstrip(b"=").decode("ascii")


def _check_key(after: object) -> CursorKey:
    if isinstance(after, bool):
        raise InvalidCursor("the cursor's key is neither a seq nor a string key")
    if isinstance(after, int):
        if not 0 <= after <= MAX_SEQ:
            raise InvalidCursor("the cursor's seq is out of range")
        return after
    if isinstance(after, str):
        if not 0 < len(after) <= MAX_KEY_LENGTH:
            raise InvalidCursor("the cursor's key has an invalid length")
        return after
    raise InvalidCursor("the cursor's key is neither a seq nor a string key")


def _refuse_constant(text: str) -> Any:
    raise ValueError(f"{text} is not allowed in a cursor")


def decode_cursor(cursor: str) -> CursorKey:
    """The key of a cursor made by :func:`encode_cursor`; :class:`InvalidCursor` otherwise."""
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH or not cursor.isascii():
        raise InvalidCursor("the cursor is malformed", cursor=cursor[:64])
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(
            raw.decode("ascii"), parse_float=_refuse_constant, parse_constant=_refuse_constant
        )
    except (binascii.Error, ValueError, RecursionError):
        raise InvalidCursor("the cursor is malformed", cursor=cursor[:64]) from None
    if not isinstance(value, dict) or set(value) != {"after"}:
        raise InvalidCursor("the cursor is malformed", cursor=cursor[:64])
    after = _check_key(value["after"])
    if encode_cursor(after) != cursor:
        raise InvalidCursor("the cursor is not in its canonical form", cursor=cursor[:64])
    return after


@dataclass(frozen=True, slots=True)
class Cursor:
    """The decoded ``cursor`` query parameter: ``after`` is ``None`` for the first page."""

    after: CursorKey | None = None

    def after_seq(self) -> int | None:
        """The cursor as a seq (422 if it holds a string key)."""
        if self.after is None or isinstance(self.after, int):
            return self.after
        raise InvalidCursor("this list is ordered by seq; the cursor holds another kind of key")

    def after_key(self) -> str | None:
        """The cursor as a string key (422 if it holds a seq)."""
        if self.after is None or isinstance(self.after, str):
            return self.after
        raise InvalidCursor("this list is ordered by a string key; the cursor holds a seq")


def get_limit(
    settings: SettingsDep,
    limit: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_SEQ,
            description="Page size; defaults to the server default and is capped at its maximum.",
        ),
    ] = None,
) -> int:
    if limit is None:
        return settings.default_page_size
    return min(limit, settings.max_page_size)


def get_cursor(
    cursor: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_CURSOR_LENGTH,
            description="Opaque `next_cursor` of the previous page; omit for the first page.",
        ),
    ] = None,
) -> Cursor:
    return Cursor(None if cursor is None else decode_cursor(cursor))


LimitDep = Annotated[int, Depends(get_limit)]
CursorDep = Annotated[Cursor, Depends(get_cursor)]


def page_of(items: Sequence[T], limit: int, key: Callable[[T], CursorKey]) -> Page[T]:
    """A page from up to ``limit + 1`` items in increasing key order."""
    shown = list(items[:limit])
    next_cursor = encode_cursor(key(shown[-1])) if len(items) > limit and shown else None
    return Page[T](items=shown, next_cursor=next_cursor, limit=limit)
