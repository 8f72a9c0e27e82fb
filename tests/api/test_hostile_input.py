"""Bad input never gets a 500 and never changes anything.

Starting from valid requests of the JCM scenario, every field of every write body is replaced
in turn by hostile values (wrong types, out-of-range integers, huge strings, nulls); every
response must be a clean client error or a success, and a rejected request must leave the
ledger's tree size unchanged.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.scenario import post, run_jcm_flow, solar

HOSTILE: list[Any] = [
    None,
    -1,
    0,
    2**53,
    2**63,
    -(2**64),
    1.5,
    True,
    "",
    "x" * 5000,
    "\u0000",
    [],
    {},
    {"nested": [1, {"deep": None}]},
    "CA0001",
    "2021-13-45",
]


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*prefix, index)
            yield from paths(item, (*prefix, index))


def replaced(body: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    copied = copy.deepcopy(body)
    target: Any = copied
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copied


def tree_size(client: TestClient) -> int:
    return int(client.get("/v1/log/checkpoint").text.splitlines()[1])


def test_hostile_fields_in_every_write_body(
    client: TestClient, jcm: dict[str, dict[str, str]]
) -> None:
    run_jcm_flow(client, jcm)
    tha, jpn, admin = jcm["THA01"], jcm["JPN01"], jcm["admin"]
    selection = {"quantity": 5}
    requests: list[tuple[str, dict[str, str], dict[str, Any]]] = [
        ("/v1/parties", admin, {"code": "MNG", "name": "Mongolia"}),
        ("/v1/registries", admin, {"registry_id": "MNG01", "party": "JPN", "name": "x"}),
        (
            "/v1/accounts",
            admin,
            {
                "account_id": "JPN01-X",
                "registry_id": "JPN01",
                "account_type": "holding",
                "name": "x",
            },
        ),
        (
            "/v1/issuances",
            tha,
            {
                "registry_id": "THA01",
                "attributes": solar("THA01", "THA", "CA0001", 2022),
                "shares": [{"account_id": "THA01-GOV", "quantity": 10}],
            },
        ),
        (
            "/v1/transfers",
            jpn,
            {"from_account": "JPN01-GOV", "to_account": "JPN01-NDC", "selection": selection},
        ),
        (
            "/v1/uses",
            jpn,
            {
                "from_account": "JPN01-GOV",
                "to_account": "JPN01-NDC",
                "selection": {
                    "ranges": [{"first": 700, "last": 705}],
                    "ca_id": "CA0001",
                    "originating_registry": "THA01",
                    "first_transferring_party": "THA",
                    "vintage": 2021,
                },
                "use_year": 2026,
            },
        ),
        ("/v1/parties/JPN/emissions", jpn, {"year": 2026, "value": 5}),
        ("/v1/parties/JPN/targets", jpn, {"trajectory": {"2030": 1}}),
        (
            "/v1/consistency-checks",
            jcm["reconciler"],
            {"party": "THA", "reported_year": 2026, "counterpart": None},
        ),
    ]
    failures: list[str] = []
    for url, headers, body in requests:
        for path in paths(body):
            for value in HOSTILE:
                size = tree_size(client)
                response = client.post(url, json=replaced(body, path, value), headers=headers)
                if response.status_code >= 500:
                    failures.append(f"{url} {path}={value!r}: {response.status_code}")
                elif response.status_code >= 400:
                    if response.headers["content-type"] != "application/problem+json":
                        failures.append(f"{url} {path}: not a problem document")
                    if tree_size(client) != size:
                        failures.append(f"{url} {path}={value!r}: rejected but appended")
    assert failures == []


def test_hostile_query_and_path_values(client: TestClient, jcm: dict[str, dict[str, str]]) -> None:
    run_jcm_flow(client, jcm)
    auditor = jcm["reconciler"]
    urls = [
        "/v1/blocks/0",
        "/v1/blocks/99999999999999999999999",
        "/v1/blocks/-4",
        "/v1/itmos/CA0001-THA01-THA-99999999999999999999-2021/history",
        "/v1/itmos/nonsense/history",
        "/v1/parties/jpn",
        "/v1/parties/JPN/aef/1800",
        "/v1/parties/JPN/aef/2025?format=pdf",
        "/v1/parties/JPN/aef/2025?version=one",
        "/v1/parties/JPN/adjustments?as_of=99999999",
        "/v1/parties/JPN/adjustments?as_of=-1",
        "/v1/parties?limit=0",
        "/v1/parties?limit=-5",
        "/v1/parties?cursor=%00%00",
        "/v1/log/entries?start=1&end=99999999999999999999",
        "/v1/exports?start=5&end=1",
        "/v1/authorizations/NOPE",
        "/v1/authorizations/THA-JCM-2025-001?version=99",
    ]
    for url in urls:
        response = client.get(url, headers=auditor)
        assert 400 <= response.status_code < 500, (url, response.status_code, response.text)
        assert response.headers["content-type"] == "application/problem+json", url


@pytest.mark.parametrize(
    "url",
    [
        "/v1/accounts/JPN01-%00/holdings",
        "/v1/authorizations/A%00B",
        "/v1/blocks?account_id=%00",
        "/v1/itmos/%00/history",
    ],
)
def test_nul_characters_in_paths_and_queries_are_problems(
    client: TestClient, jcm: dict[str, dict[str, str]], url: str
) -> None:
    response = client.get(url, headers=jcm["reconciler"])
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_nul_characters_and_overlong_ids_in_bodies_are_problems(
    client: TestClient, jcm: dict[str, dict[str, str]]
) -> None:
    admin, jpn = jcm["admin"], jcm["JPN01"]
    post(
        client,
        "/v1/registries",
        admin,
        {"registry_id": "THA02", "party": "THA", "name": "ext", "hosted": False},
    )
    bodies: list[tuple[str, dict[str, Any]]] = [
        (
            "/v1/acquisitions",
            {
                "from_registry": "THA02",
                "to_account": "JPN01-GOV",
                "attributes": solar("THA02", "THA", "CA0001", 2022),
                "first": 1,
                "last": 10,
                "authorization_id": "A" * 65,
                "first_transferred": True,
            },
        ),
        (
            "/v1/oimp-uses",
            {
                "from_account": "JPN01-GOV",
                "to_account": "JPN01-NDC",
                "selection": {"quantity": 1},
                "oimp_purpose": "CORSIA",
                "entity_id": "a\u0000b",
            },
        ),
        (
            "/v1/authorized-entities",
            {
                "entity_id": "a\u0000b",
                "name": "n",
                "country": "JPN",
                "identification": "x",
                "ca_id": "CA0001",
                "authorized_on": "2025-01-01",
            },
        ),
    ]
    for url, body in bodies:
        response = client.post(url, json=body, headers=jpn)
        assert response.status_code == 422, (url, response.text)
        assert response.headers["content-type"] == "application/problem+json"


def test_a_registry_flags_only_its_own_holdings(
    client: TestClient, jcm: dict[str, dict[str, str]]
) -> None:
    """Japan's registry supplies a fabricated Thai report naming units Thailand still holds:
    recording the check must not freeze Thailand's units."""
    run_jcm_flow(client, jcm)
    tha, jpn, reconciler = jcm["THA01"], jcm["JPN01"], jcm["reconciler"]
    post(
        client,
        "/v1/issuances",
        tha,
        {
            "registry_id": "THA01",
            "attributes": solar("THA01", "THA", "CA0001", 2022),
            "shares": [
                {"account_id": "THA01-GOV", "quantity": 500, "authorization_id": "THA-JCM-2025-001"}
            ],
        },
    )
    first_entry = client.get("/v1/log/entries", params={"start": 0, "end": 1}, headers=reconciler)
    year = int(first_entry.json()["timestamp"][:4])
    fabricated = copy.deepcopy(client.get(f"/v1/parties/THA/aef/{year}", headers=reconciler).json())
    row = next(r for r in fabricated["Table 3: Actions"] if r["Action type"] == "First transfer")
    row.update({"First ID": 1, "Last ID": 100, "Vintage": 2022})
    checked = client.post(
        "/v1/consistency-checks",
        json={"party": "JPN", "reported_year": year, "counterpart": fabricated, "record": True},
        headers=jpn,
    )
    assert checked.status_code == 200, checked.text
    assert checked.json()["notation"] == "Checked, inconsistencies identified"
    thai = client.get("/v1/blocks", params={"account_id": "THA01-GOV"}, headers=reconciler)
    assert [b for b in thai.json()["items"] if b["inconsistent"]] == []


def test_an_oversized_chunked_body_is_a_413_problem(
    client: TestClient, jcm: dict[str, dict[str, str]], app: Any
) -> None:
    """Without a Content-Length the limit is enforced while the body is read."""
    limit = app.state.settings.max_body_bytes

    def chunks() -> Iterator[bytes]:
        yield b'{"code": "MNG", "name": "'
        for _ in range(limit // 1000 + 2):
            yield b"x" * 1000
        yield b'"}'

    response = client.post(
        "/v1/parties",
        content=chunks(),
        headers=jcm["admin"] | {"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["type"] == "urn:a6ledger:problem:payload-too-large"


def test_an_unsubmitted_aef_version_is_not_found(
    client: TestClient, jcm: dict[str, dict[str, str]]
) -> None:
    response = client.get(
        "/v1/parties/THA/aef/2025", params={"version": "7.3"}, headers=jcm["admin"]
    )
    assert response.status_code == 404
    assert response.json()["rule"] == "submission-exists"
