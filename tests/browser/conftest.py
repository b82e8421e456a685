"""Browser fixtures: the real app on a free port, one headless Chromium for the session, and pages
that fail their test on any console error or uncaught exception.

Chromium is required where the CI variable is set; elsewhere a missing Chromium skips these tests.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from live_server import serve
from support import make_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """The one app the live server serves to every browser test, with a database in a temp folder."""
    return make_app(tmp_path_factory.mktemp("browser") / "drawings.sqlite")


@pytest.fixture()
def feedback_app(tmp_path):
    """start(**config) -> (base URL, app): a live app of its own with the shipped models, an empty drawings
    file and the teacher's token (tests/support's TEACHER_TOKEN), for tests that count what gets stored."""
    def start(**config):
        app = make_app(tmp_path / "drawings.sqlite", **config)
        url, stop = serve(app)
        stops.append(stop)
        return url, app

    stops = []
    yield start
    for stop in stops:
        stop()


@pytest.fixture()
def screenshot_dir(tmp_path):
    folder = Path(os.environ.get("DIGITDRAW_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def server_url(app):
    url, stop = serve(app)
    yield url
    stop()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.is_file():
        message = f"the browser tests need Chromium at {CHROMIUM}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class BrowserProblems:
    """Console errors and uncaught exceptions of every page a test opened, while the test runs: once it is over,
    its servers may stop before its pages close, and a page still asking every few seconds then fails to load."""

    def __init__(self):
        self.messages: list[str] = []
        self.expected: list[str] = []
        self.test_over = False

    def watch(self, page):
        page.on("console", lambda message: message.type == "error" and self.note(f"console error: {message.text}"))
        page.on("pageerror", lambda error: self.note(f"uncaught exception: {error}"))

    def note(self, message: str):
        if not self.test_over:
            self.messages.append(message)

    def expect(self, fragment: str):
        """A test that provokes an error on purpose names it here."""
        self.expected.append(fragment)

    def unexpected(self) -> list[str]:
        return [m for m in self.messages if not any(fragment in m for fragment in self.expected)]


@pytest.fixture()
def browser_problems():
    return BrowserProblems()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    yield
    problems = item.funcargs.get("browser_problems")
    if problems is not None:
        problems.test_over = True


@pytest.fixture()
def open_page(browser, server_url, browser_problems):
    """open_page(path="/", **context options) -> a Playwright page of the live app.

    Pages ask for reduced motion, so the bars stand still at their final width when measured.
    """
    contexts = []

    def open_(path="/", base_url=server_url, **options):
        options.setdefault("viewport", {"width": 1280, "height": 800})
        context = browser.new_context(base_url=base_url, reduced_motion="reduce", **options)
        contexts.append(context)
        page = context.new_page()
        browser_problems.watch(page)
        page.goto(path)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert browser_problems.unexpected() == []
