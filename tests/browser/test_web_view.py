"""The web view in headless Chromium on the demo scenario: sign in, every page, the figures
shown equal the API's, the inclusion proof verified in the browser (and a tampered entry
refused), a reader without rights refused, accessibility basics checked with axe-core, and
keyboard navigation. A screenshot of each page is saved under ``SCREENSHOTS``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import SCREENSHOTS, WAIT, DemoSite

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
#: WCAG 2.x A and AA rules: labels, names, contrast, landmarks, keyboard-reachable controls.
AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})
  .then(r => done(r.violations.map(v => ({id: v.id, help: v.help,
      nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))
  .catch(e => done([{id: 'axe-error', help: String(e), nodes: []}]));
"""


def wait_for(driver: WebDriver, condition: Callable[[WebDriver], Any]) -> Any:
    return WebDriverWait(driver, WAIT, poll_frequency=0.1).until(condition)


def api(site: DemoSite, path: str) -> Any:
    response = httpx.get(
        site.base_url + path, headers={"Authorization": f"Bearer {site.auditor}"}, timeout=WAIT
    )
    assert response.status_code == 200, response.text
    return response.json()


def open_page(driver: WebDriver, site: DemoSite, path: str, name: str) -> None:
    """Open ``path``, wait until it has rendered, check accessibility, save a screenshot."""
    driver.get(site.base_url + path)
    wait_for(driver, lambda d: d.execute_script("return document.readyState") == "complete")
    assert driver.find_element(By.TAG_NAME, "h1").text
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    violations = driver.execute_async_script(AXE_RUN)
    assert violations == [], f"{path}: {json.dumps(violations, indent=1)}"
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def sign_in(driver: WebDriver, site: DemoSite, token: str, path: str = "/") -> None:
    driver.delete_all_cookies()
    driver.get(site.base_url + path)
    wait_for(driver, lambda d: "/login" in d.current_url)
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.ID, "sign-in").click()
    wait_for(driver, lambda d: "/login" not in d.current_url)


def cell(driver: WebDriver, selector: str) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, selector).text)


@pytest.fixture(scope="module")
def signed_in(driver: WebDriver, demo_site: DemoSite) -> WebDriver:
    sign_in(driver, demo_site, demo_site.auditor)
    return driver


def test_sign_in_sets_a_strict_http_only_cookie(signed_in: WebDriver, demo_site: DemoSite) -> None:
    open_page(signed_in, demo_site, "/", "parties")
    cookies = {c["name"]: c for c in signed_in.get_cookies()}
    session = cookies["a6ledger_session"]
    assert session["httpOnly"] is True
    assert session["secure"] is True  # the test environment is not development
    assert session["sameSite"] == "Strict"
    assert "expiry" not in session  # a session cookie
    assert signed_in.execute_script("return document.cookie") == ""
    assert {a.text for a in signed_in.find_elements(By.CSS_SELECTOR, "tbody td:first-child a")} >= {
        "JPN",
        "THA",
        "MNG",
    }


def test_dashboard_figures_equal_the_api(signed_in: WebDriver, demo_site: DemoSite) -> None:
    open_page(signed_in, demo_site, "/parties/JPN", "dashboard-JPN")
    report = api(demo_site, "/v1/parties/JPN/adjustments")
    for row in report["rows"]:
        for field in ("first_transferred", "used", "net", "corresponding_adjustment"):
            shown = cell(signed_in, f'tr[data-year="{row["year"]}"] td[data-field="{field}"]')
            assert shown == row[field]["decimal"], (row["year"], field)
        kind = cell(signed_in, f'tr[data-year="{row["year"]}"] td[data-field="kind"]')
        assert kind == row["corresponding_adjustment_kind"]
    final = report["final_corresponding_adjustment"]["decimal"]
    assert cell(signed_in, '[data-field="final_ca"]') == final
    # The bars are drawn on the server: one link per bar with entries behind it.
    bars = signed_in.find_elements(By.CSS_SELECTOR, "svg.chart a.bar")
    used_2025 = next(r for r in report["rows"] if r["year"] == 2025)["used"]
    assert any(b.get_attribute("aria-label") == "2025 used: 600" for b in bars)
    assert used_2025["entries"] == [31]


def test_a_bar_lists_the_entries_behind_it_by_keyboard(
    signed_in: WebDriver, demo_site: DemoSite
) -> None:
    signed_in.get(demo_site.base_url + "/parties/JPN")
    body = signed_in.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    skip = signed_in.switch_to.active_element
    assert skip.text == "Skip to content"
    skip.send_keys(Keys.ENTER)
    wait_for(signed_in, lambda d: d.switch_to.active_element.get_attribute("id") == "main")
    for _ in range(80):  # bounded: the first bar link is a few dozen stops away
        signed_in.switch_to.active_element.send_keys(Keys.TAB)
        if signed_in.switch_to.active_element.get_attribute("aria-label") == "2025 used: 600":
            break
    else:
        pytest.fail("the bar of the 2025 use is not reachable with the Tab key")
    signed_in.switch_to.active_element.send_keys(Keys.ENTER)
    wait_for(signed_in, lambda d: "/entries" in d.current_url)
    open_page(signed_in, demo_site, "/entries?seqs=31", "entries-behind-a-bar")
    assert cell(signed_in, "article.entry h2") == "Entry 31: itmo.use"


def test_holdings_and_lineage_equal_the_api(signed_in: WebDriver, demo_site: DemoSite) -> None:
    open_page(signed_in, demo_site, "/holdings", "holdings")
    for row in signed_in.find_elements(By.CSS_SELECTOR, "#account-totals tbody tr"):
        account = row.get_attribute("data-account")
        held = api(demo_site, f"/v1/accounts/{account}/holdings")
        quantity = sum(b["last"] - b["first"] + 1 for b in held["blocks"])
        assert row.find_element(By.CSS_SELECTOR, "td.num").text == str(quantity), account
    japan = api(demo_site, "/v1/accounts/JPN01-GOV/holdings")["blocks"]
    split_piece = japan[0]["block_id"]
    open_page(signed_in, demo_site, f"/holdings/blocks/{split_piece}", "block-lineage")
    boxes = signed_in.find_elements(By.CSS_SELECTOR, "svg.lineage rect.node")
    assert len(boxes) >= 2  # the block and the block it was split from
    assert signed_in.find_elements(By.CSS_SELECTOR, "svg.lineage rect.selected")


def test_flows_equal_the_aef_acquisitions(signed_in: WebDriver, demo_site: DemoSite) -> None:
    open_page(signed_in, demo_site, "/flows", "flows")
    year = int(cell(signed_in, "#flows tbody tr td:nth-child(2)")[:4])
    aef = api(demo_site, f"/v1/parties/JPN/aef/{year}")
    acquired = sum(
        row["Last ID"] - row["First ID"] + 1
        for row in aef["Table 3: Actions"]
        if row["Action type"] == "Acquisition"
    )
    assert cell(signed_in, 'td[data-from="THA"][data-to="JPN"]') == str(acquired) == "1009"
    open_page(signed_in, demo_site, "/flows?ca=CA0002", "flows-filtered")
    assert signed_in.find_elements(By.ID, "no-flows")


def test_aef_and_btr_tables_equal_the_api(signed_in: WebDriver, demo_site: DemoSite) -> None:
    signed_in.get(demo_site.base_url + "/")
    link = signed_in.find_element(By.PARTIAL_LINK_TEXT, "AEF and BTR")
    year = int(link.text.rsplit(" ", 1)[-1])
    open_page(signed_in, demo_site, f"/parties/JPN/aef/{year}", "aef-btr")
    aef = api(demo_site, f"/v1/parties/JPN/aef/{year}")
    for table, rows in aef.items():
        if rows:
            shown = signed_in.find_elements(
                By.CSS_SELECTOR, f'table[data-table="{table}"] tbody tr'
            )
            assert len(shown) == len(rows), table
    assert cell(signed_in, "#check-result")
    assert signed_in.find_elements(By.CSS_SELECTOR, "#btr-summary tbody tr")
    formats = {
        b.get_attribute("value")
        for b in signed_in.find_elements(By.CSS_SELECTOR, ".downloads button")
    }
    assert formats == {"xlsx", "csv", "json"}


def test_log_page_shows_the_signed_checkpoint(signed_in: WebDriver, demo_site: DemoSite) -> None:
    open_page(signed_in, demo_site, "/log", "log")
    checkpoint = httpx.get(demo_site.base_url + "/v1/log/checkpoint", timeout=WAIT).text
    assert cell(signed_in, "#tree-size") == checkpoint.split("\n")[1]
    assert cell(signed_in, "#checkpoint") == checkpoint.strip()
    assert signed_in.find_elements(By.CSS_SELECTOR, "svg.chart polyline")


def verification(driver: WebDriver) -> str:
    result = driver.find_element(By.ID, "result")
    wait_for(driver, lambda d: result.get_attribute("data-state") != "pending")
    return str(result.get_attribute("data-state"))


def test_the_browser_verifies_a_real_entry_and_refuses_a_tampered_one(
    signed_in: WebDriver, demo_site: DemoSite
) -> None:
    open_page(signed_in, demo_site, "/log/verify?index=31", "verify-entry")
    assert verification(signed_in) == "verified"
    facts = {
        d.get_attribute("data-term"): d.text
        for d in signed_in.find_elements(By.CSS_SELECTOR, "#details dd")
    }
    assert facts["Computed root"] == facts["Checkpoint root"]
    assert facts["Checkpoint signature"].startswith("valid")

    entry = signed_in.find_element(By.ID, "entry")
    original = str(entry.get_attribute("value"))
    tampered = original.replace('"quantity":600', '"quantity":601')
    assert tampered != original
    signed_in.execute_script("arguments[0].value = arguments[1]", entry, tampered)
    signed_in.find_element(By.ID, "verify").click()
    wait_for(
        signed_in, lambda d: d.find_element(By.ID, "result").get_attribute("data-state") == "failed"
    )
    assert "do not lead to the checkpoint's root" in cell(signed_in, "#result")
    signed_in.save_screenshot(str(SCREENSHOTS / "verify-tampered-entry.png"))

    signed_in.execute_script("arguments[0].value = arguments[1]", entry, original)
    # A checkpoint claiming a larger tree: the path no longer fits, and the signature fails.
    note = signed_in.find_element(By.ID, "checkpoint-text")
    lines = str(note.get_attribute("value")).split("\n")
    lines[1] = str(int(lines[1]) + 1)
    forged = "\n".join(lines)
    signed_in.execute_script("arguments[0].value = arguments[1]", note, forged)
    signed_in.find_element(By.ID, "verify").click()
    wait_for(
        signed_in, lambda d: d.find_element(By.ID, "result").get_attribute("data-state") == "failed"
    )
    # The same root under another origin line: the proof fits, the signature does not.
    lines[1] = str(int(lines[1]) - 1)
    lines[0] += "-forged"
    signed_in.execute_script("arguments[0].value = arguments[1]", note, "\n".join(lines))
    signed_in.find_element(By.ID, "verify").click()
    wait_for(
        signed_in,
        lambda d: "signature does not match" in d.find_element(By.ID, "result").text,
    )
    assert verification(signed_in) == "failed"


def test_a_reader_without_rights_is_refused(driver: WebDriver, demo_site: DemoSite) -> None:
    driver.delete_all_cookies()
    driver.get(demo_site.base_url + "/holdings")
    wait_for(driver, lambda d: "/login" in d.current_url)
    open_page(driver, demo_site, driver.current_url.removeprefix(demo_site.base_url), "sign-in")
    driver.find_element(By.ID, "token").send_keys(demo_site.revoked)
    driver.find_element(By.ID, "sign-in").click()
    error = wait_for(driver, lambda d: d.find_elements(By.ID, "login-error"))
    assert "invalid or revoked" in error[0].text
    assert driver.get_cookies() == []
    driver.save_screenshot(str(SCREENSHOTS / "sign-in-refused.png"))
    driver.get(demo_site.base_url + "/parties/JPN")
    wait_for(driver, lambda d: "/login" in d.current_url)
    # A registry token reads as in the API, and lands on the page it asked for.
    sign_in(driver, demo_site, demo_site.registry, "/flows")
    assert driver.current_url == demo_site.base_url + "/flows"
    assert "registry (JPN01)" in cell(driver, "header .who")
