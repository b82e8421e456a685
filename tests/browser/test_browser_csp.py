"""The pages work in real Chromium under the strict Content-Security-Policy: no violation, no console error.

Chromium reports a blocked inline script or style both on the console (which `open_page` fails on)
and as a `securitypolicyviolation` event, collected here from the first byte of each page.
"""

from __future__ import annotations

from pad_strokes import SEVEN, draw_with_mouse, wait_for_answer

VIOLATION_LISTENER = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation",
  (event) => window.cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline code"}`));
"""


def open_watched(open_page, path):
    """The page reloaded with the violation listener installed before any of its own scripts run."""
    page = open_page(path)
    page.add_init_script(VIOLATION_LISTENER)
    response = page.reload()
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    return page


def test_drawing_page_reads_a_digit_under_the_csp(open_page):
    page = open_watched(open_page, "/")
    draw_with_mouse(page, SEVEN)
    wait_for_answer(page)
    assert page.locator("#answer-digit").text_content() == "7"
    assert page.evaluate("window.cspViolations") == []


def test_evaluation_page_draws_its_charts_under_the_csp(open_page):
    page = open_watched(open_page, "/evaluation")
    page.wait_for_selector("#evaluation[data-ready='true']")
    assert page.locator("[data-topic='confusion'] .cell").count() >= 100
    assert page.evaluate("window.cspViolations") == []


def test_error_page_is_styled_under_the_csp(open_page, browser_problems):
    browser_problems.expect("status of 404")   # Chromium logs the page's own 404 status on the console
    page = open_watched(open_page, "/no-such-page")
    assert page.locator("h1").text_content() == "Not Found"
    assert page.evaluate("getComputedStyle(document.body).getPropertyValue('--accent')").strip()
    assert page.evaluate("window.cspViolations") == []


def test_an_inline_style_is_blocked_and_seen(open_page, browser_problems):
    """The control for the tests above: a violation, provoked on purpose, is caught by the listener."""
    browser_problems.expect("Content Security Policy")
    page = open_watched(open_page, "/")
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p id=styled style=\"color: rgb(255, 0, 0)\">x</p>')")
    page.wait_for_function("window.cspViolations.length > 0")
    assert page.evaluate("getComputedStyle(document.getElementById('styled')).color") != "rgb(255, 0, 0)"
    assert page.evaluate("window.cspViolations")[0].startswith("style-src")
