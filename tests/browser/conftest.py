"""End-to-end fixtures: the demo scenario behind a real ``a6ledger serve``, and Debian's headless
chromium driven through its chromidriver (Selenium, the W3C WebDriver protocol).

Chromium and chromedriver come from Debian (``apt-get install chromium chromium-driver``, which
``.ci/run`` does). Without them the tests skip with the reason, except in CI (``CI=true``),
where a missing browser fails them: CI must run them.

The tests run in the SQLite pass of the suite (the server has its own SQLite database), once.
Every wait is bounded (:data:`WAIT`); screenshots go to :data:`SCREENSHOTS`
(``A6LEDGER_SCREENSHOTS`` overrides it), which CI keeps as an artifact.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver

from app.keys import write_signer_key
from app.settings import Environment, Settings
from ledger.access import Role, create_token, revoke_token
from ledger.adapters.sql.migrations import upgrade_to_head
from ledger.adapters.sql.uow import SqlStorage
from ledger.demo import load_demo
from tests.api.live_server import LiveServer, live_server, settings_env
from tests.databases import BACKENDS

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(
    os.environ.get("A6LEDGER_SCREENSHOTS", PROJECT_ROOT / "test-artifacts" / "screenshots")
)
CHROMIUM = os.environ.get("A6LEDGER_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("A6LEDGER_CHROMEDRIVER", "/usr/bin/chromedriver")
WAIT = 20.0
"""Seconds any wait for the browser or the page may last."""


def _missing_browser() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if shutil.which(path) is None:
            return f"{path} is not installed (apt-get install chromium chromium-driver)"
    return None


def require_browser() -> None:
    """Skip (or, in CI, fail) unless this pass runs the browser tests and chromium is here."""
    if "sqlite" not in BACKENDS:
        pytest.skip("the browser tests run once, in the SQLite pass of the suite")
    missing = _missing_browser()
    if missing is None:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI must run the browser tests, but {missing}")
    pytest.skip(missing)


@dataclass(frozen=True)
class DemoSite:
    """The demo scenario served on 127.0.0.1, with tokens of each kind."""

    server: LiveServer
    auditor: str
    registry: str
    revoked: str

    @property
    def base_url(self) -> str:
        # "localhost", a secure context: WebCrypto is available, and Secure cookies are kept.
        return f"http://localhost:{self.server.port}"


def signer_key(path: Path, origin: str) -> str:
    """A signer key whose verifier key's base64 holds a "+", the separator of its fields: the
    page's script must not split the key there (about one key in two does; bounded tries)."""
    for _ in range(100):
        vkey = write_signer_key(path, origin)
        if "+" in vkey.split("+", 2)[2]:
            return vkey
        path.unlink()
    raise AssertionError("no key with a '+' in its base64 in 100 tries")


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    require_browser()
    tmp = tmp_path_factory.mktemp("demo-site")
    settings = Settings(
        environment=Environment.test,
        database_url=f"sqlite:///{tmp / 'demo.db'}",
        signer_key_path=tmp / "signer.key",
        checkpoint_state_path=tmp / "last-signed-checkpoint",
        log_origin="a6ledger.test/demo",
        auto_setup=True,
    )
    signer_key(settings.signer_key_path, settings.log_origin)
    upgrade_to_head(settings.database_url)
    storage = SqlStorage.open(settings.database_url)
    try:
        with storage.unit_of_work(write=True) as uow:
            load_demo(uow)
            uow.commit()
        _, auditor = create_token(storage, "browser auditor", Role.auditor, None, actor="test")
        _, registry = create_token(storage, "browser JPN01", Role.registry, "JPN01", actor="test")
        withdrawn, revoked = create_token(storage, "withdrawn", Role.auditor, None, actor="test")
        revoke_token(storage, withdrawn.token_id, actor="test")
    finally:
        storage.dispose()
    with live_server(settings_env(settings), tmp) as server:
        yield DemoSite(server, auditor, registry, revoked)


@pytest.fixture(scope="module")
def driver() -> Iterator[WebDriver]:
    require_browser()
    options = Options()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1000",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
    ):
        options.add_argument(argument)
    browser = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    browser.set_page_load_timeout(WAIT)
    browser.set_script_timeout(WAIT)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield browser
    finally:
        browser.quit()
