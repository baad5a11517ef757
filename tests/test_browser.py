"""The reviewer's path in a real browser (Debian's Chromium, driven by Playwright) against a
real `vetting serve`: sign in, fill the assessment form, see the server's inline errors, submit,
and see the enterprise's decision change."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import TEST_URL_ENV, scratch_database
from tests.test_serve import _audit_verifies, _serve, _stop

pytestmark = pytest.mark.slow
CHROMIUM = Path("/usr/bin/chromium")
CRITERIA = "E1 E2 E3 E4 S1 S2 S3 S4 S5 G1 G2 G3 G4 G5 P1 P2 P3 P4 P5".split()
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed at /usr/bin/chromium (.ci/run installs Debian's chromium)")
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=BROWSER_ARGS)
        yield instance
        instance.close()


def _api(base: str, method: str, path: str, token: str, body: dict) -> dict:
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as resp:
        return json.loads(resp.read())


def _reviewer(instance: Path) -> tuple[str, str, str]:
    for line in (instance / "demo-credentials.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        email, role, password, token = line.split("\t")
        if role == "reviewer":
            return email, password, token
    raise AssertionError("no reviewer in the demo credentials")


def test_sign_in_file_an_assessment_and_see_the_decision_change(tmp_path, browser):
    if os.environ.get(TEST_URL_ENV):
        with scratch_database(tmp_path, "browser") as url:
            _walk(tmp_path, {"VETTING_DATABASE_URL": url, "VETTING_DEMO": "true"}, browser)
    else:
        _walk(tmp_path, {}, browser)


def _walk(tmp_path: Path, env: dict[str, str], browser) -> None:  # noqa: ANN001
    proc, base, log = _serve(tmp_path, env, [])
    try:
        email, password, token = _reviewer(tmp_path / "instance")
        # a fresh enterprise with one counted assessment filed over the API: NONE for want of quorum
        ent = _api(base, "POST", "/api/v1/enterprises", token, {
            "legal_name": "Browser Test Bridge Engineering Co., Ltd.", "country": "KE", "sector": "infrastructure"})
        enterprise_id = ent["enterprise"]["id"] if "enterprise" in ent else ent["id"]
        first = _api(base, "POST", "/api/v1/assessments", token, {
            "enterprise_id": enterprise_id, "conflict": {"declared": False},
            "scores": {c: {"score": 2} for c in CRITERIA}})
        _api(base, "POST", f"/api/v1/assessments/{first['id']}/submit", token, {})

        page = browser.new_page(viewport={"width": 1000, "height": 900})
        page.goto(base + "/review")
        assert page.locator("h1").inner_text() == "Sign in"
        page.fill("#email", email)
        page.fill("#password", password)
        page.click("button:has-text('Sign in')")
        page.wait_for_url(base + "/review")
        assert "Assessments" in page.locator("h1").inner_text()

        page.click("text=File an assessment")
        page.select_option("#enterprise_id", str(enterprise_id))
        page.check("input[name=conflict][value=no]")
        for code in CRITERIA:
            page.check(f"input[name='{code}-score'][value='2']")
        page.select_option("#ko-FORCED_LABOUR-status-select", "confirmed")
        page.fill("#ko-FORCED_LABOUR-description", "Passports withheld from site workers")
        page.click("button[value=submit]")  # a confirmed knock-out without evidence: the server refuses it
        assert page.locator(".error-summary").is_visible()
        assert "needs evidence" in page.locator("#ko-FORCED_LABOUR-evidence-error").inner_text()
        assert page.input_value("#ko-FORCED_LABOUR-description") == "Passports withheld from site workers"

        page.fill("#ko-FORCED_LABOUR-evidence_reference", "Labour inspectorate report 2026/114")
        page.click("button[value=submit]")
        page.wait_for_selector("#decision-outcome")
        assert page.locator("#decision-outcome").inner_text() == "BLACK"
        assert "NONE" in page.locator(".moved").inner_text()  # it was NONE before this assessment
        assert "KNOCKOUT" in page.locator(".decision").inner_text()

        page.goto(base + "/review")
        assert "BLACK" in page.locator("table").inner_text()
        page.click("button:has-text('Sign out')")
        page.goto(base + "/review")
        assert page.locator("h1").inner_text() == "Sign in"
        page.close()
    finally:
        _stop(proc, log)
    _audit_verifies(tmp_path, env)


def test_registrar_queue_public_objection_and_decision(tmp_path, browser):
    if os.environ.get(TEST_URL_ENV):
        with scratch_database(tmp_path, "registry") as url:
            _registry_walk(tmp_path, {"VETTING_DATABASE_URL": url, "VETTING_DEMO": "true"}, browser)
    else:
        _registry_walk(tmp_path, {}, browser)


def _account(instance: Path, role: str) -> tuple[str, str]:
    for line in (instance / "demo-credentials.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#") and line.split("\t")[1] == role:
            email, _role, password, _token = line.split("\t")
            return email, password
    raise AssertionError(f"no {role} in the demo credentials")


def _registry_walk(tmp_path: Path, env: dict[str, str], browser) -> None:  # noqa: ANN001
    from sqlalchemy import create_engine, text

    proc, base, log = _serve(tmp_path, env, [])
    try:
        url = env.get("VETTING_DATABASE_URL") or f"sqlite:///{tmp_path / 'instance' / 'vetting.sqlite3'}"
        engine = create_engine(url)
        with engine.connect() as conn:
            reference, email = conn.execute(text(
                "SELECT l.reference, e.contact_email FROM listings l JOIN enterprises e ON e.id = l.enterprise_id "
                "WHERE l.status = 'proposed' AND l.list_type = 'black' ORDER BY l.id LIMIT 1")).one()
        engine.dispose()

        page = browser.new_page(viewport={"width": 375, "height": 800})  # a phone
        page.goto(base + "/objections/new?reference=" + reference)
        page.fill("#contact_email", "wrong@example.org")
        page.fill("#grounds", "The site in question belongs to a joint venture we left in 2025.")
        page.click("button:has-text('Send the objection')")
        assert "no listing with this reference" in page.locator("#reference-error").inner_text()
        page.fill("#contact_email", email)
        page.fill("#evidence", "Share transfer deed of 2025-06-30")
        page.click("button:has-text('Send the objection')")
        objection_ref = page.locator("#objection-reference").inner_text()
        assert objection_ref.startswith("O")

        registrar, password = _account(tmp_path / "instance", "registrar")
        page.goto(base + "/signin")
        page.fill("#email", registrar)
        page.fill("#password", password)
        page.click("button:has-text('Sign in')")
        page.goto(base + "/registry")
        assert objection_ref in page.locator("main").inner_text()
        page.click(f"a:text-is(\"{reference}\")")
        assert page.locator("#listing-status").inner_text() == "proposed"
        assert "knockout_count" in page.locator(".trace").inner_text()  # the decision's trace is shown
        page.click("#confirm")  # still inside the objection window, and an objection is open
        assert "objection window" in page.locator("p.error").first.inner_text()
        page.check(f"form:has(input[name=listing_id]) input[name=verdict][value=no]")
        page.fill("textarea[name=reason] >> nth=1", "The deed postdates the events in the report.")
        page.click("button:has-text('Record the decision')")
        assert "rejected" in page.locator("article.request").first.inner_text()
        page.close()
    finally:
        _stop(proc, log)
    _audit_verifies(tmp_path, env)


OUTPUT = Path(os.environ.get("VETTING_TEST_OUTPUT", Path(__file__).resolve().parents[1] / "test-output"))


def test_public_lookup_in_two_languages_on_a_phone(tmp_path, browser):
    if os.environ.get(TEST_URL_ENV):
        with scratch_database(tmp_path, "public") as url:
            _public_walk(tmp_path, {"VETTING_DATABASE_URL": url, "VETTING_DEMO": "true"}, browser)
    else:
        _public_walk(tmp_path, {}, browser)


def _public_walk(tmp_path: Path, env: dict[str, str], browser) -> None:  # noqa: ANN001
    from sqlalchemy import create_engine, text

    from vetting.matching.forms import core, fold, forms

    shots = OUTPUT / "screenshots" / ("postgresql" if env.get("VETTING_DATABASE_URL") else "sqlite")
    shots.mkdir(parents=True, exist_ok=True)
    proc, base, log = _serve(tmp_path, env, [])
    try:
        url = env.get("VETTING_DATABASE_URL") or f"sqlite:///{tmp_path / 'instance' / 'vetting.sqlite3'}"
        engine = create_engine(url)
        with engine.connect() as conn:
            ent_id, legal, chinese = conn.execute(text(
                "SELECT e.id, e.legal_name, e.chinese_name FROM listings l JOIN enterprises e ON e.id = l.enterprise_id "
                "WHERE l.status = 'active' AND l.list_type = 'black' AND e.chinese_name IS NOT NULL ORDER BY e.id LIMIT 1")).one()
            red_count = conn.execute(text("SELECT count(*) FROM listings WHERE status = 'active' AND list_type = 'red' "
                                          "AND kind = 'listing'")).scalar()
        engine.dispose()
        short_chinese = core(fold(chinese))  # 华信铁路工程 for 华信铁路工程集团有限公司
        pinyin = next(f.text for f in forms(chinese) if f.kind == "pinyin").title()  # "Hua Xin Tie Lu ..."

        alerts: list[str] = []
        page = browser.new_page(viewport={"width": 375, "height": 800}, locale="en-GB")
        page.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))

        def fits() -> bool:  # nothing wider than the phone's screen
            return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

        page.goto(base + "/")
        assert fits()
        page.screenshot(path=str(shots / "home-en.png"), full_page=True)
        page.fill("#q", short_chinese)
        page.click("button:has-text('Search')")
        first = page.locator("ol.results li a").first
        assert first.inner_text() == legal
        assert page.locator("ol.results mark").first.inner_text()  # the stored name that matched is highlighted
        assert fits()
        page.screenshot(path=str(shots / "search-chinese-en.png"), full_page=True)

        page.fill("#q", pinyin)
        page.click("button:has-text('Search')")
        assert page.locator("ol.results li a").first.inner_text() == legal
        assert "pinyin" in page.locator("ol.results li").first.inner_text()
        page.locator("ol.results li a").first.click()
        assert page.url.endswith(f"/enterprises/{ent_id}")
        banner = page.locator("#status")
        assert "black" in banner.get_attribute("class") and "on the black list" in banner.inner_text()
        assert page.locator("p[lang=en]").first.inner_text().strip()  # the grounds
        assert page.locator("figure.chart svg rect.bar").count() == 4
        assert fits()
        page.screenshot(path=str(shots / "enterprise-en.png"), full_page=True)

        page.click("a[hreflang=zh]")  # the language switch keeps the page
        assert page.url.split("?")[0].endswith(f"/enterprises/{ent_id}")
        assert page.locator("html").get_attribute("lang") == "zh"
        assert "列入黑名单" in page.locator("#status").inner_text()
        assert fits()
        page.screenshot(path=str(shots / "enterprise-zh.png"), full_page=True)

        page.goto(base + "/lists/red?per_page=10")  # the cookie keeps Chinese
        assert page.locator("h1").inner_text() == "红名单"
        assert page.locator("tbody tr").count() == min(10, red_count)
        first_page = page.locator("tbody tr td a").all_inner_texts()
        page.click("#next-page")
        assert "第 2 页" in page.locator("nav.pages").inner_text()
        second_page = page.locator("tbody tr td a").all_inner_texts()
        assert len(second_page) == red_count - 10 and not set(first_page) & set(second_page)
        assert fits()
        page.screenshot(path=str(shots / "red-list-zh.png"), full_page=True)
        for name in ("statistics", "method"):
            page.goto(f"{base}/{name}")
            assert fits(), name
            page.screenshot(path=str(shots / f"{name}-zh.png"), full_page=True)

        page.goto(base + "/?lang=en")
        for hostile in ("' OR 1=1 --", "<script>alert(1)</script>"):
            page.fill("#q", hostile)
            page.click("button:has-text('Search')")
            assert page.locator("ol.results li").count() == 0
            assert page.input_value("#q") == hostile  # shown back as text
            assert hostile in page.locator("title").inner_text()
        page.screenshot(path=str(shots / "search-hostile-en.png"), full_page=True)
        assert alerts == []
        page.close()
    finally:
        _stop(proc, log)
