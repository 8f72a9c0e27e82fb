"""``POST /v1/imports`` on both databases: the JCM 2025 example imported, and the same lines
posted one by one to their routes with their action dates, give identical AEF tables; a dry run
reports every refused row and appends nothing; a refused row is a 409 problem naming its line
and rule; an AEF workbook goes base64-encoded."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Environment, Settings
from ledger.accounting import aef
from ledger.adapters.sql.db import create_ledger_engine
from ledger.adapters.sql.uow import SqlStorage
from tests.api.conftest import TokenFactory
from tests.api.jcm2025 import tree_size
from tests.conftest import DatabaseFactory
from tests.unit.adapters.test_import_files import NO_KNOWN_COLUMN, table3_sheet_without_headers

ACTIONS = aef.AefTable.ACTIONS.value
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jcm-2025.jsonl"
PARTIES = ("JPN", "THA", "MDV")
REGISTRIES = ("JPN01", "THA01", "MDV01")
Tokens = dict[str, dict[str, str]]

ROUTES = {
    "party": "/v1/parties",
    "registry": "/v1/registries",
    "cooperative_approach": "/v1/cooperative-approaches",
    "account": "/v1/accounts",
    "authorization": "/v1/authorizations",
    "issuance": "/v1/issuances",
    "transfer": "/v1/transfers",
    "use": "/v1/uses",
}
"""The routes of the actions in the example file."""

REFUSED_TRANSFER = {
    "action": "transfer",
    "body": {
        "from_account": "THA01-GOV",
        "to_account": "JPN01-GOV",
        "selection": {"quantity": 1},
        "action_date": "2025-11-12",
    },
}


def example_lines() -> list[dict[str, Any]]:
    return [json.loads(line) for line in EXAMPLE.read_text(encoding="utf-8").splitlines()]


def jsonl(*rows: dict[str, Any] | str) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)


def all_tokens(tokens: TokenFactory) -> Tokens:
    """An admin token and one per registry, made first: the same entries in both ledgers."""
    return {"admin": tokens("admin")} | {r: tokens("registry", r) for r in REGISTRIES}


def acting_token(line: dict[str, Any], tokens: Tokens) -> dict[str, str]:
    body = line["body"]
    match line["action"]:
        case "authorization":
            return tokens[f"{body['party']}01"]
        case "issuance":
            return tokens[body["registry_id"]]
        case "transfer" | "use":
            return tokens[body["from_account"][:5]]
    return tokens["admin"]


def aef_json(client: TestClient, party: str, year: int, headers: dict[str, str]) -> Any:
    response = client.get(f"/v1/parties/{party}/aef/{year}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def post_import(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    return client.post("/v1/imports", json=body, headers=headers)


@pytest.fixture
def other(database_factory: DatabaseFactory, tmp_path: Path) -> Iterator[tuple[TestClient, Tokens]]:
    """A second service on a database of its own, with its tokens."""
    url = database_factory.create()
    settings = Settings(
        environment=Environment.test,
        database_url=url,
        signer_key_path=tmp_path / "other.key",
        checkpoint_state_path=tmp_path / "other-checkpoint",
        log_origin="a6ledger.test/other",
        auto_setup=True,
    )
    engine = create_ledger_engine(url)
    try:
        with TestClient(create_app(settings)) as client:
            yield client, all_tokens(TokenFactory(SqlStorage(engine)))
    finally:
        engine.dispose()
        database_factory.drop(url)


def test_the_example_imported_and_posted_line_by_line_gives_identical_aef_tables(
    client: TestClient, tokens: TokenFactory, other: tuple[TestClient, Tokens]
) -> None:
    mine = all_tokens(tokens)
    response = post_import(client, mine["admin"], content=EXAMPLE.read_text(encoding="utf-8"))
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["complete"] is True
    assert (report["rows"], report["applied"], len(report["batches"])) == (19, 19, 1)
    assert int(response.headers["a6-tree-size"]) == tree_size(client)

    posted, theirs = other
    for line in example_lines():
        reply = posted.post(
            ROUTES[line["action"]], json=line["body"], headers=acting_token(line, theirs)
        )
        assert reply.status_code == 201, reply.text

    for party in PARTIES:
        for year in (2025, 2026):
            imported = aef_json(client, party, year, mine["admin"])
            assert imported == aef_json(posted, party, year, theirs["admin"]), (party, year)
    thai = aef_json(client, "THA", 2025, mine["admin"])[ACTIONS]
    assert [(a["Action date"], a["Action type"]) for a in thai] == [
        ("30/10/2025", "Authorization"),
        ("11/11/2025", "First transfer"),
    ]
    assert aef_json(client, "JPN", 2026, mine["admin"])[ACTIONS] == []


def test_posting_the_same_file_again_imports_nothing(
    client: TestClient, tokens: TokenFactory
) -> None:
    admin = tokens("admin")
    content = EXAMPLE.read_text(encoding="utf-8")
    assert post_import(client, admin, content=content).status_code == 201
    size = tree_size(client)
    again = post_import(client, admin, content=content)
    assert again.status_code == 200, again.text
    body = again.json()
    assert (body["already_imported"], body["applied"], body["complete"]) == (19, 0, True)
    assert tree_size(client) == size


def test_a_dry_run_reports_every_refused_row_and_appends_nothing(
    client: TestClient, tokens: TokenFactory
) -> None:
    admin = tokens("admin")
    size = tree_size(client)
    content = EXAMPLE.read_text(encoding="utf-8") + jsonl(REFUSED_TRANSFER, "{oops")
    response = post_import(client, admin, content=content, dry_run=True)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["dry_run"], report["applied"], report["batches"]) == (True, 19, [])
    assert [(r["row"], r["action"], r["rule"]) for r in report["refusals"]] == [
        (20, "transfer", "holdings-non-negative"),
        (21, "?", "request-body-parsable"),
    ]
    assert report["refusals"][0]["problem_type"] == "insufficient-holdings"
    assert tree_size(client) == size


def test_a_refused_row_is_a_409_problem_naming_its_line_and_rule(
    client: TestClient, tokens: TokenFactory
) -> None:
    admin = tokens("admin")
    content = EXAMPLE.read_text(encoding="utf-8") + jsonl(REFUSED_TRANSFER)
    response = post_import(client, admin, content=content)
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:a6ledger:problem:import-row-refused"
    assert problem["rule"] == "import-rows-accepted"
    assert problem["refusal"]["row"] == 20
    assert problem["refusal"]["rule"] == "holdings-non-negative"
    assert (problem["imported_rows"], problem["rows_total"]) == (0, 20)


def test_unreadable_lines_are_a_422_problem_and_import_nothing(
    client: TestClient, tokens: TokenFactory
) -> None:
    admin = tokens("admin")
    size = tree_size(client)
    content = EXAMPLE.read_text(encoding="utf-8") + jsonl({"action": "launch", "body": {}})
    response = post_import(client, admin, content=content)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"] == "urn:a6ledger:problem:import-file-unreadable"
    assert [(r["row"], r["rule"]) for r in problem["refusals"]] == [(20, "invalid-input")]
    assert tree_size(client) == size


def test_only_admin_tokens_import(client: TestClient, tokens: TokenFactory) -> None:
    response = post_import(client, tokens("registry", "JPN01"), content="{}\n")
    assert response.status_code == 403
    assert response.json()["rule"] == "role-allowed"


def test_an_aef_workbook_goes_base64_encoded(
    client: TestClient, tokens: TokenFactory, other: tuple[TestClient, Tokens]
) -> None:
    """Thailand's AEF 2025 workbook from a ledger that holds the whole example, imported into
    one that holds the reference data, authorizations and issuances, gives the same Table 3."""
    source, theirs = other
    full = post_import(source, theirs["admin"], content=EXAMPLE.read_text(encoding="utf-8"))
    assert full.status_code == 201, full.text
    workbook = source.get("/v1/parties/THA/aef/2025?format=xlsx", headers=theirs["admin"])
    assert workbook.status_code == 200

    admin = tokens("admin")
    prepared = [line for line in example_lines() if line["action"] not in ("transfer", "use")]
    assert post_import(client, admin, content=jsonl(*prepared)).status_code == 201
    bad = post_import(client, admin, format="aef-xlsx", content="not base64!")
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("content of a aef-xlsx file is base64")
    response = post_import(
        client,
        admin,
        format="aef-xlsx",
        content=base64.b64encode(workbook.content).decode("ascii"),
    )
    assert response.status_code == 201, response.text
    assert response.json()["format"] == "aef-xlsx"

    def actions(c: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
        rows = aef_json(c, "THA", 2025, headers)[ACTIONS]
        note = "Additional explanatory information"
        return [{k: v for k, v in r.items() if k != note} for r in rows]

    assert actions(client, admin) == actions(source, theirs["admin"])


def test_control_characters_and_a_lone_carriage_return_in_csv_are_a_problem(
    client: TestClient, tokens: TokenFactory
) -> None:
    """Found by schemathesis: a CSV of a carriage return and control characters was a 500."""
    admin = tokens("admin")
    body = {
        "content": "\r\u00a4\u00b2\u0019\u000e",
        "format": "aef-table3-csv",
        "party": "MOO",
        "dry_run": False,
    }
    size = client.get("/v1/log/checkpoint").text.splitlines()[1]
    response = client.post("/v1/imports", json=body, headers=admin)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/log/checkpoint").text.splitlines()[1] == size


@pytest.mark.parametrize("fmt", ["aef-table3-csv", "aef-xlsx"])
def test_a_table_3_whose_header_names_no_column_is_a_422_problem(
    client: TestClient, tokens: TokenFactory, fmt: str
) -> None:
    """A Table 3 CSV whose first line names no Table 3 column, and no data line, imported as
    zero rows (200); it is refused like a workbook whose Table 3 sheet has no header row."""
    admin = tokens("admin")
    if fmt == "aef-xlsx":
        content = base64.b64encode(table3_sheet_without_headers()).decode("ascii")
    else:
        content = NO_KNOWN_COLUMN.decode("ascii")
    size = tree_size(client)
    for dry_run in (True, False):
        response = post_import(
            client, admin, format=fmt, content=content, party="THA", dry_run=dry_run
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["rule"] == "aef-format"
        assert problem["type"] == "urn:a6ledger:problem:aef-validation-error"
        assert [(p["table"], p["row"]) for p in problem["problems"]] == [(ACTIONS, 0)]
        assert "no header" in problem["detail"]
    assert tree_size(client) == size
