"""The web view in process, on both databases: every page on the demo scenario (status and
content), signing in and out with the cookie's flags, refusals (no session, revoked token, a
role that may not read, another site's form, throttling) as HTML pages, the downloads, and the
documentation pages served without a CDN. The browser tests (tests/browser) drive the same pages
in Chromium.

The pages only read: one demo database and one signed-in client per backend serve the tests that
only read (:func:`site`); the tests that revoke tokens or spend the sign-in budget have their own.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from app.main import create_app
from app.settings import Environment, Settings
from app.web import charts, pages, session
from ledger.access import Role, revoke_token
from ledger.adapters.sql.uow import SqlStorage
from ledger.demo import load_demo
from tests.api.conftest import IssuedToken, TokenFactory
from tests.conftest import DatabaseFactory
from tests.databases import BACKENDS, PostgresFactory, SqliteFactory


@dataclass(frozen=True)
class Site:
    client: TestClient
    auditor: IssuedToken


def load(storage: SqlStorage) -> IssuedToken:
    with storage.unit_of_work(write=True) as uow:
        load_demo(uow)
        uow.commit()
    return TokenFactory(storage).issue(Role.auditor)


def signed_in(client: TestClient, token: str) -> TestClient:
    """Sign ``client`` in over https (the cookie is Secure outside development)."""
    client.base_url = client.base_url.copy_with(scheme="https")
    response = client.post("/login", data={"token": token, "next": "/"}, follow_redirects=False)
    assert response.status_code == 303
    return client


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    """The demo scenario behind the app, and a client signed in as an auditor."""
    factory: DatabaseFactory = (
        SqliteFactory(Path(tempfile.mkdtemp(prefix="a6t-web-")))
        if request.param == "sqlite"
        else PostgresFactory()
    )
    url = factory.create()
    root = Path(tempfile.mkdtemp(prefix="a6t-web-keys-"))
    settings = Settings(
        environment=Environment.test,
        database_url=url,
        signer_key_path=root / "signer.key",
        checkpoint_state_path=root / "last-signed-checkpoint",
        log_origin="a6ledger.test/log",
        auto_setup=True,
    )
    storage = SqlStorage.open(url)
    try:
        auditor = load(storage)
        with TestClient(create_app(settings)) as client:
            yield Site(signed_in(client, auditor.token), auditor)
    finally:
        storage.dispose()
        factory.drop(url)
        factory.close()


@pytest.fixture
def browser(site: Site) -> TestClient:
    return site.client


@pytest.fixture
def anonymous(site: Site) -> TestClient:
    """A client without a session, on the same app."""
    return TestClient(site.client.app)


@pytest.fixture
def auditor(tokens: TokenFactory) -> IssuedToken:
    """An auditor's token on an empty ledger: signing in needs no data."""
    return tokens.issue(Role.auditor)


def page(client: TestClient, path: str, status: int = 200) -> str:
    response: Response = client.get(path, follow_redirects=False)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    return response.text


def test_pages_need_a_session(anonymous: TestClient) -> None:
    client = anonymous
    for path in ("/", "/parties/JPN", "/holdings", "/flows", "/log", "/log/verify?index=1"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=/")
    assert 'name="token"' in page(client, "/login?next=/flows")


def test_sign_in_sets_a_strict_http_only_secure_session_cookie(
    anonymous: TestClient, site: Site
) -> None:
    client, auditor = anonymous, site.auditor
    response = client.post(
        "/login", data={"token": auditor.token, "next": "/flows?ca=X"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/flows?ca=X"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{session.COOKIE}={auditor.token};")
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=strict", "path=/"} <= flags
    assert not any(f.startswith(("expires", "max-age")) for f in flags)


def test_sign_in_refuses_a_bad_or_revoked_token(
    client: TestClient, auditor: IssuedToken, storage: SqlStorage
) -> None:
    for token in ("", "a6l_tok_nothing_secret", auditor.token + "x"):
        response = client.post("/login", data={"token": token, "next": "/"})
        assert response.status_code == 401
        assert "invalid or revoked" in response.text
        assert "set-cookie" not in response.headers
    revoke_token(storage, auditor.principal.token_id, actor="test")
    assert client.post("/login", data={"token": auditor.token}).status_code == 401


def test_a_revoked_session_is_sent_back_to_sign_in(
    client: TestClient, auditor: IssuedToken, storage: SqlStorage
) -> None:
    browser = signed_in(client, auditor.token)
    page(browser, "/")
    revoke_token(storage, auditor.principal.token_id, actor="test")
    response = browser.get("/holdings", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/holdings&reason=session-ended"
    assert f'{session.COOKIE}=""' in response.headers["set-cookie"]
    assert "invalid or revoked" in page(browser, response.headers["location"])
    assert "alert(1)" not in page(browser, "/login?reason=alert(1)")  # no text from the address


def test_sign_in_only_from_this_sites_form(anonymous: TestClient, site: Site) -> None:
    client, auditor = anonymous, site.auditor
    response = client.post(
        "/login", data={"token": auditor.token}, headers={"Origin": "https://elsewhere.example"}
    )
    assert response.status_code == 403
    assert "set-cookie" not in response.headers
    same = client.post(
        "/login",
        data={"token": auditor.token},
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert same.status_code == 303


def test_sign_in_goes_to_pages_of_this_site_only(anonymous: TestClient, site: Site) -> None:
    client, auditor = anonymous, site.auditor
    for target in ("//elsewhere.example/", "https://elsewhere.example/", "/\\elsewhere", ""):
        response = client.post(
            "/login", data={"token": auditor.token, "next": target}, follow_redirects=False
        )
        assert response.headers["location"] == "/", target


def test_sign_out_ends_the_session(anonymous: TestClient, site: Site) -> None:
    browser = signed_in(anonymous, site.auditor.token)
    response = browser.post("/logout", follow_redirects=False)
    assert response.status_code == 303
    assert f'{session.COOKIE}=""' in response.headers["set-cookie"]
    assert browser.get("/", follow_redirects=False).status_code == 303


def test_a_role_that_may_not_read_is_refused(
    browser: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session, "READ_ROLES", (Role.admin,))
    assert "role auditor may not read this" in page(browser, "/", 403)


def test_home_lists_the_parties(browser: TestClient) -> None:
    text = page(browser, "/")
    for code in ("JPN", "THA", "MNG", "CHE"):
        assert f'href="/parties/{code}"' in text
    assert "Signed in: auditor" in text


def test_dashboard_shows_the_apis_figures(site: Site) -> None:
    browser, auditor = site.client, site.auditor
    text = page(browser, "/parties/JPN")
    report = browser.get("/v1/parties/JPN/adjustments", headers=auditor.headers).json()
    used_2025 = next(r for r in report["rows"] if r["year"] == 2025)["used"]
    assert f'<a href="/entries?seqs=31">{used_2025["decimal"]}</a>' in text
    assert 'aria-label="2025 used: 600"' in text
    assert report["final_corresponding_adjustment"]["decimal"] in text
    assert "Averaging trajectory" in text
    # Indicative adjustments before the NDC year, the final one in it; hollow points on the chart.
    assert '<span class="kind-indicative">indicative</span>' in text
    assert '<span class="kind-final">final</span>' in text
    assert f'fill="#ffffff" stroke="{charts.CA}"' in text
    assert f'r="4" fill="{charts.CA}" stroke="{charts.CA}"' in text
    assert "No AEF submitted yet" in text


def test_dashboard_says_why_a_period_cannot_be_computed(browser: TestClient) -> None:
    assert 'data-rule="ndc-profile"' in page(browser, "/parties/MNG")
    assert 'id="no-ndc"' in page(browser, "/parties/CHE")
    assert "Rule: <code>party-registered</code>" in page(browser, "/parties/XXX", 404)


def test_entries_behind_a_figure(browser: TestClient) -> None:
    text = page(browser, "/entries?seqs=31,29,x,31,99999")
    assert "Entry 29: itmo.first_transfer" in text
    assert "Entry 31: itmo.use" in text
    assert text.index("Entry 29") < text.index("Entry 31")
    assert "Not in the log: 99999" in text


def test_holdings_by_account_with_totals(site: Site) -> None:
    browser, auditor = site.client, site.auditor
    text = page(browser, "/holdings")
    held = browser.get("/v1/accounts/JPN01-GOV/holdings", headers=auditor.headers).json()
    quantity = sum(b["last"] - b["first"] + 1 for b in held["blocks"])
    assert f'<tr data-account="JPN01-GOV"><td>JPN01-GOV</td><td class="num">{quantity}' in text
    totals = text[text.index('data-dimension="Cooperative approach"') :]
    assert '<td>CA0001</td><td class="num">2017</td>' in totals  # Thailand's issuance, all of it
    only = page(browser, "/holdings?account=JPN01-GOV")
    assert 'data-account="THA01-PP"><td>THA01-PP</td><td>2021' not in only
    assert 'data-account="JPN01-GOV"><td>JPN01-GOV</td><td>2021' in only


def test_block_lineage_and_serial_history(browser: TestClient) -> None:
    text = page(browser, "/holdings/blocks/4")
    assert 'class="node selected"' in text
    assert 'class="node superseded"' in text  # block 1, split into 3 and 4
    assert 'href="/holdings/blocks/3"' in text
    assert "split (superseded by its pieces)" in page(browser, "/holdings/blocks/1")
    assert "lineage is very large" not in text
    assert "Rule: <code>block-exists</code>" in page(browser, "/holdings/blocks/999", 404)
    history = page(browser, "/holdings/itmo?itmo_id=CA0001-THA01-THA-1-2021")
    assert "itmo.first_transfer" in history
    assert "itmo.use" in history
    page(browser, "/holdings/itmo?itmo_id=nonsense", 422)
    page(browser, "/holdings/itmo?itmo_id=CA0001-THA01-THA-99999-2021", 404)


def test_a_very_large_lineage_is_drawn_in_part(
    browser: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "MAX_LINEAGE_SCAN", 1)
    text = page(browser, "/holdings/blocks/4")
    assert "lineage is very large" in text
    assert 'class="node selected"' in text


def test_flows_matrix_and_filters(browser: TestClient) -> None:
    text = page(browser, "/flows")
    assert '<td class="num" data-from="THA" data-to="JPN">1009</td>' in text
    assert "<title>THA to JPN: 1009</title>" in text
    assert 'id="no-flows"' in page(browser, "/flows?ca=CA0002")
    assert 'id="no-flows"' in page(browser, "/flows?year=2020")
    assert 'data-to="JPN">1009' in page(browser, "/flows?ca=CA0001")


def test_aef_tables_check_and_downloads(site: Site) -> None:
    browser, auditor = site.client, site.auditor
    found = re.search(r'href="/parties/JPN/aef/(\d{4})"', page(browser, "/"))
    assert found is not None
    year = found.group(1)
    text = page(browser, f"/parties/JPN/aef/{year}")
    api = browser.get(f"/v1/parties/JPN/aef/{year}", headers=auditor.headers).json()
    for table, rows in api.items():
        if rows:
            assert f"{table} ({len(rows)} row" in text
    assert 'id="check-result"' in text
    assert 'id="btr-summary"' in text
    assert 'id="no-submissions"' in text
    chosen = browser.get("/parties/JPN/aef?year=2025", follow_redirects=False)
    assert chosen.headers["location"] == "/parties/JPN/aef/2025"
    assert browser.get("/parties/JPN/aef?year=20", follow_redirects=False).status_code == 422
    as_json = browser.get(f"/parties/JPN/aef/{year}/download?format=json")
    assert as_json.json() == api
    assert as_json.headers["content-disposition"].endswith(f'aef-JPN-{year}-1.0.json"')
    as_csv = download(browser, f"/parties/JPN/aef/{year}/download?format=csv")
    assert len(zipfile.ZipFile(io.BytesIO(as_csv.content)).namelist()) == 5
    as_xlsx = download(browser, f"/parties/JPN/aef/{year}/download?format=xlsx")
    assert as_xlsx.content[:2] == b"PK"


def download(client: TestClient, path: str) -> Response:
    response: Response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    return response


def test_log_page_and_in_browser_verification_material(browser: TestClient) -> None:
    checkpoint = browser.get("/v1/log/checkpoint").text
    text = page(browser, "/log")
    assert f'<strong id="tree-size">{checkpoint.splitlines()[1]}</strong>' in text
    assert 'id="no-cosignatures"' in text
    assert "<polyline" in text
    verify = page(browser, "/log/verify?index=31")
    start = verify.index('id="proof-material">') + len('id="proof-material">')
    material = json.loads(verify[start : verify.index("</script>", start)])
    assert material["index"] == 31
    assert material["checkpoint"] == checkpoint
    assert json.loads(material["entry"])["kind"] == "itmo.use"
    assert '<script src="/static/web/verify.js"></script>' in verify
    assert "there is no entry 99999" in page(browser, "/log/verify?index=99999")
    assert "proof-material" not in page(browser, "/log/verify")
    script = browser.get("/static/web/verify.js")
    assert script.status_code == 200
    assert "crypto.subtle.digest" in script.text


def test_throttled_sign_in_is_an_html_page(client: TestClient, app_settings: Settings) -> None:
    for _ in range(app_settings.auth_failure_limit):
        client.post("/login", data={"token": "a6l_tok_wrong_secret"})
    response = client.post("/login", data={"token": "a6l_tok_wrong_secret"})
    assert response.status_code == 429
    assert response.headers["content-type"].startswith("text/html")
    assert "retry-after" in response.headers


def test_docs_are_served_without_a_cdn(anonymous: TestClient) -> None:
    client = anonymous
    for path in ("/docs", "/redoc"):
        text = client.get(path).text
        assert "/static/docs/" in text
        assert "cdn" not in text.lower()
        assert "fonts.googleapis" not in text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        assert client.get(f"/static/docs/{asset}").status_code == 200
