"""Share of proceeds and OMGE for the regular information over HTTP (both databases)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.scenario import post


def test_monetary_contribution_in_the_regular_information(
    client: TestClient, jcm: dict[str, dict[str, str]]
) -> None:
    tha, jpn = jcm["THA01"], jcm["JPN01"]
    body = {"ca_id": "CA0001", "amount": "2500.50", "currency": "USD", "action_date": "2025-12-01"}
    by_japan = client.post("/v1/parties/THA/adaptation-contributions", json=body, headers=jpn)
    assert by_japan.status_code == 403
    inexact = client.post(
        "/v1/parties/THA/adaptation-contributions", json=body | {"amount": "1e3"}, headers=tha
    )
    assert inexact.status_code == 422
    recorded = post(client, "/v1/parties/THA/adaptation-contributions", tha, body)
    info = client.get("/v1/parties/THA/regular-information", headers=jpn).json()
    assert info == {
        "party": "THA",
        "rows": [
            {
                "paragraph": "38",
                "cooperative_approach": "CA0001",
                "year": 2025,
                "kind": "Monetary contribution to the Adaptation Fund",
                "quantity": None,
                "amount": "2500.50",
                "currency": "USD",
                "entries": [recorded["seq"]],
            }
        ],
    }
    assert client.get("/v1/parties/JPN/regular-information", headers=jpn).json()["rows"] == []
