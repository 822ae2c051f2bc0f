"""The app in a real browser (Playwright driving Debian's Chromium): each role signs in and walks
its pages; a clinician records a conference action and sees it after a reload, and downloads the
pack. Every page is screenshotted and the screenshot checked not to be blank."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest
from app_users import MONTH, PASSWORDS
from openpyxl import load_workbook
from PIL import Image, ImageStat
from playwright.sync_api import Page, expect, sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
WALKS = {
    "clin_a": ["/", "/conference", "/enrolment", "/model", "/quality"],
    "comm": ["/", "/enrolment", "/model"],
    "auditor": ["/", "/audit", "/enrolment", "/model", "/quality"],
    "admin": ["/", "/admin", "/model", "/quality"],
}
SHOTS = Path(__file__).parent / "screenshots"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: .ci/run installs Debian's chromium package")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def sign_in(browser, server, username: str) -> Page:
    page = browser.new_context(
        viewport={"width": 1400, "height": 1000}, accept_downloads=True
    ).new_page()
    page.goto(f"{server.url}/conference")
    expect(page).to_have_url(f"{server.url}/login?next=/conference")
    page.fill("#username", username)
    page.fill("#password", PASSWORDS[username])
    page.click("#sign-in")
    page.wait_for_url(f"{server.url}/**")
    return page


def watch_policy(page: Page) -> list[str]:
    """Every Content-Security-Policy refusal the page's console reports (there should be none)."""
    refused: list[str] = []
    page.on(
        "console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None
    )
    return refused


def assert_not_blank(png: bytes, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    (SHOTS / f"{name}.png").write_bytes(png)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    colours = image.getcolors(maxcolors=1_000_000) or []
    spread = ImageStat.Stat(image.convert("L")).stddev[0]
    assert len(colours) > 50 and spread > 10, f"{name}: the screenshot looks blank"


def open_page(page: Page, server, path: str) -> None:
    page.goto(f"{server.url}{path}")
    expect(page.locator("main h1")).to_be_visible(timeout=15_000)
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("username", list(WALKS))
def test_each_role_walks_its_pages(browser, server, username):
    page = sign_in(browser, server, username)
    refused = watch_policy(page)
    for path in WALKS[username]:
        open_page(page, server, path)
        expect(page.locator("main h1")).not_to_have_text("Not available")
        expect(page).to_have_title(re.compile(r" - stratify$"))  # Dash's title script still runs
        assert_not_blank(
            page.screenshot(full_page=True), f"{username}{path.replace('/', '_') or '_home'}"
        )
    assert refused == [], "the app broke its own Content-Security-Policy"
    page.context.close()


def test_a_commissioner_is_turned_away_from_the_case_conference(browser, server):
    page = sign_in(browser, server, "comm")
    open_page(page, server, "/conference")
    expect(page.locator("main h1")).to_have_text("Not available")
    expect(page.locator("nav")).not_to_contain_text("Case conference")
    page.context.close()


def choose(page: Page, dropdown_id: str, text: str) -> None:
    """Pick the option of a dcc.Dropdown that contains `text`, as a person does: open it, click."""
    dropdown = page.locator(f"#{dropdown_id}")
    dropdown.click()
    expect(dropdown).to_have_attribute("aria-expanded", "true")
    page.locator("[role=option]", has_text=text).first.click()
    expect(dropdown).to_contain_text(text)


def test_a_clinician_records_an_action_and_sees_it_after_reload(browser, server, app_data):
    page = sign_in(browser, server, "clin_a")
    open_page(page, server, "/conference")
    if page.locator("#conf-open").count():
        page.fill("#conf-meeting-date", f"{MONTH}-20")
        page.click("#conf-open")
    expect(page.locator("#conf-act-add")).to_be_visible(timeout=15_000)
    choose(page, "conf-act-person", "1.")
    page.fill("#conf-act-text", "Review medicines at home <b>visit</b>")
    page.fill("#conf-act-owner", "Pat Pharmacist")
    page.fill("#conf-act-role", "practice pharmacist")
    page.fill("#conf-act-due", "2026-12-10")
    page.click("#conf-act-add")
    expect(page.locator("#conf-message")).to_contain_text("Action agreed", timeout=15_000)
    page.reload()
    expect(page.locator("#conf-actions")).to_contain_text(
        "Review medicines at home <b>visit</b>", timeout=15_000
    )
    assert_not_blank(page.screenshot(full_page=True), "clin_a_conference_after_action")
    page.context.close()


def test_a_clinician_downloads_the_pack(browser, server, app_data, tmp_path):
    page = sign_in(browser, server, "clin_a")
    open_page(page, server, "/conference")
    with page.expect_download() as download:
        page.click("#conf-pack-xlsx")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == f"conference_{app_data.cluster_a}_{MONTH}.xlsx"
    book = load_workbook(saved)
    assert len(book.sheetnames) == 3
    page.context.close()


def test_a_clinician_opens_a_patient_and_script_in_a_record_stays_text(browser, server, app_data):
    page = sign_in(browser, server, "clin_a")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_page(page, server, f"/patient?person={app_data.person_a}")
    page.locator("summary", has_text="Record a decision").click()
    expect(page.locator("#pat-en-save")).to_be_visible()
    choose(page, "pat-en-action", "deferred")
    page.fill("#pat-en-reason", "<img src=x onerror=alert(1)>")
    page.click("#pat-en-save")
    expect(page.locator("#pat-message")).to_contain_text("Decision saved", timeout=15_000)
    page.reload()
    expect(page.locator("main")).to_contain_text(
        "deferred: <img src=x onerror=alert(1)>", timeout=15_000
    )
    page.locator("summary", has_text="care plan").click()
    page.fill("#pat-cp-goals", "Stay at home safely\nWalk to the shop twice a week")
    page.fill("#pat-cp-review", "2027-05-01")
    page.fill("#pat-cp-note", "first plan agreed with the patient")
    page.click("#pat-cp-save")
    expect(page.locator("#pat-message")).to_contain_text("Care plan saved", timeout=15_000)
    page.reload()
    expect(page.locator("main")).to_contain_text("Walk to the shop twice a week", timeout=15_000)
    expect(page.locator("#pat-timeline .ag-row").first).to_be_visible(timeout=15_000)
    assert_not_blank(page.screenshot(full_page=True), "clin_a_patient")
    assert dialogs == []
    page.context.close()
