"""The entry index's tags: what each entry names."""

from __future__ import annotations

from ledger.log.canonical import JsonValue
from ledger.registry.codec import to_json
from ledger.registry.entry_tags import REFERENCE, REFERENCE_KINDS, entry_tags
from ledger.registry.model import UnitBlock
from ledger.registry.projection import InMemoryProjection, apply_entry
from tests.registry_world import attributes


def block(account_id: str, authorization_id: str | None = None) -> JsonValue:
    units = attributes("THA01", "CA0001", 2021)
    return to_json(UnitBlock(7, units, 1, 10, account_id, authorization_id=authorization_id))


def test_reference_entries_are_read_by_every_party() -> None:
    for kind in sorted(REFERENCE_KINDS):
        assert entry_tags(kind, {"party": "THA", "account": {"account_id": "X"}}) == (REFERENCE,)


def test_an_action_is_tagged_with_every_party_account_and_authorization_it_names() -> None:
    payload: dict[str, JsonValue] = {
        "from_account": "THA01-GOV",
        "to_account": "JPN01-GOV",
        "acquiring_party": "JPN",
        "authorization_id": "THA-NDC",
        "international": True,
        "quantity": 10,
        "reference": "JPN01-GOV",
        "blocks": [block("THA01-GOV"), block("JPN01-GOV", "THA-DUAL")],
    }
    assert entry_tags("itmo.transfer", payload) == (
        "account:JPN01-GOV",
        "account:THA01-GOV",
        "authorization:THA-DUAL",
        "authorization:THA-NDC",
        "party:JPN",
        "party:THA",  # the blocks' first transferring Party
    )


def test_inputs_are_tagged_with_their_party_and_other_entries_with_nothing() -> None:
    assert entry_tags("emissions.recorded", {"party": "MNG", "year": 2025}) == ("party:MNG",)
    assert entry_tags("log.note", {"text": "hello", "n": 1}) == ()
    assert entry_tags(
        "x", {"party": None, "to_account": 3, "blocks": ["?", {"attributes": 1}]}
    ) == (())


def test_apply_entry_indexes_every_entry_it_applies() -> None:
    state = InMemoryProjection()
    apply_entry(state, 0, "emissions.recorded", {"party": "MNG", "year": 2025, "value": 1})
    apply_entry(state, 1, "log.note", {"text": "hello"})
    apply_entry(state, 2, "aef.submitted", {"party": "MNG", "reported_year": 2025, "version": "1"})
    assert state.tagged == {"party:MNG": [0, 2]}
    assert state.tagged_seqs(["party:MNG", "party:THA"], 2) == [0]
    assert state.tagged_seqs(["party:MNG"], 3) == [0, 2]
