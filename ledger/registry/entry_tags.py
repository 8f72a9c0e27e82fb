"""The entry index: which Parties, accounts and authorizations each ledger entry names, so that a
Party's reports read the entries about that Party instead of the whole log.

:func:`entry_tags` is a pure function of an entry's kind and payload. ``apply_entry`` stores the
tags of every entry it applies (``ProjectionRepository.tag_entry``), so the index is written in
the same transaction as the entry, rebuilt by a replay of the log, and compared row by row with
that replay by ``a6ledger verify-db``.

Tags:

- :data:`REFERENCE` on the entries that write reference data every report may look up (Parties
  and their NDC periods, registries, cooperative approaches, first-transfer definitions,
  authorizations, entities, accounts, conversions of non-GHG metrics);
- ``party:<code>`` for every Party the payload names (``party`` and every ``*_party`` field) and
  the first transferring Party of every unit block the entry writes;
- ``account:<id>`` for every account the payload names (every ``*_account`` field) and the
  account of every unit block the entry writes;
- ``authorization:<id>`` for the authorization the payload names and that of every unit block
  the entry writes.

An action that moves units names the account they leave (``from_account``) unless they stay in
it, so every entry that changes a block held in one of a Party's accounts carries that account's
tag: the blocks an account holds at any tree size replay from its tagged entries alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

REFERENCE = "*"
"""The tag of entries that write reference data (read by every Party's reports)."""

REFERENCE_KINDS = frozenset(
    {
        "party.registered",
        "ndc.declared",
        "ndc.amended",
        "registry.registered",
        "cooperative_approach.registered",
        "first_transfer_definition.declared",
        "authorization.recorded",
        "authorized_entity.recorded",
        "account.opened",
        "non_ghg_conversion.recorded",
    }
)


def party_tag(code: str) -> str:
    return f"party:{code}"


def account_tag(account_id: str) -> str:
    return f"account:{account_id}"


def authorization_tag(authorization_id: str) -> str:
    return f"authorization:{authorization_id}"


def _prefix(key: str) -> str | None:
    """The tag prefix of a string value under ``key``: ``party:`` for ``party`` and every
    ``*_party``, ``account:`` for every ``*_account``, ``authorization:`` for
    ``authorization_id``, else ``None`` (the key names nothing)."""
    if key == "party" or key.endswith("_party"):
        return party_tag("")
    if key.endswith("_account"):
        return account_tag("")
    if key == "authorization_id":
        return authorization_tag("")
    return None


_NAMING_KEYS: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {}
"""The keys that name something among a payload's keys, with their prefixes, by the payload's
keys (a replay asks for every entry's, and the entries of a kind share their keys; the cache
stops growing at :data:`_MAX_KEY_SETS`)."""
_MAX_KEY_SETS = 4096


def _naming_keys(keys: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    naming = tuple((key, prefix) for key in keys if (prefix := _prefix(key)) is not None)
    if len(_NAMING_KEYS) < _MAX_KEY_SETS:
        _NAMING_KEYS[keys] = naming
    return naming


def _named(key: str, value: object) -> str | None:
    if not isinstance(value, str):
        return None
    prefix = _prefix(key)
    return None if prefix is None else prefix + value


def _block_tags(raw: object) -> Iterable[str]:
    if not isinstance(raw, Mapping):
        return
    yield from (
        tag
        for tag in (
            _named("block_account", raw.get("account_id")),
            _named("authorization_id", raw.get("authorization_id")),
        )
        if tag is not None
    )
    attributes = raw.get("attributes")
    if isinstance(attributes, Mapping):
        ftp = _named("first_transferring_party", attributes.get("first_transferring_party"))
        if ftp is not None:
            yield ftp


def entry_tags(kind: str, payload: Mapping[str, Any]) -> tuple[str, ...]:
    """The entry's tags (see the module docstring), sorted; none for an entry that names no
    Party, account or authorization (log notes, tokens, checkpoints)."""
    if kind in REFERENCE_KINDS:
        return (REFERENCE,)
    keys = tuple(payload)
    naming = _NAMING_KEYS.get(keys)
    if naming is None:
        naming = _naming_keys(keys)
    tags = {prefix + value for key, prefix in naming if isinstance(value := payload[key], str)}
    blocks = payload.get("blocks")
    if isinstance(blocks, list):
        for raw in blocks:
            tags.update(_block_tags(raw))
    return tuple(sorted(tags))
