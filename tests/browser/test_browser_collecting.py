"""A student's drawing page follows the teacher's collecting switch within seconds, in real Chromium against a
real server: Right/Wrong come back without a new drawing, and a pause is said in a sentence instead of the
buttons vanishing. The page asks quietly, and not while its tab is hidden.
"""

from __future__ import annotations

from playwright.sync_api import expect

from pad_strokes import SEVEN, draw_with_mouse, wait_for_answer
from support import TEACHER_TOKEN

NOTICED_WITHIN_MS = 6000   # the page asks every 4 s (give or take 15 %) while it is in view
PAUSED = "Your teacher has paused saving drawings."


def set_collecting(app, on: bool) -> None:
    answer = app.test_client().post("/api/classroom", json={"collecting": on},
                                    headers={"Authorization": f"Bearer {TEACHER_TOKEN}"})
    assert answer.status_code == 200


def drawn_seven(page) -> int:
    draw_with_mouse(page, SEVEN)
    wait_for_answer(page)
    return int(page.locator("#answer-digit").text_content())


def test_right_and_wrong_come_back_when_the_teacher_turns_collecting_on(open_page, feedback_app):
    url, app = feedback_app()
    set_collecting(app, False)
    page = open_page("/", base_url=url)
    said = drawn_seven(page)
    expect(page.locator("#feedback")).to_be_hidden()

    set_collecting(app, True)
    right = page.locator("#feedback-right")
    expect(right).to_be_visible(timeout=NOTICED_WITHIN_MS)
    expect(right).to_be_enabled()
    expect(right).to_have_text(f"Right, it's a {said}Enter")
    with page.expect_response("**/api/feedback") as saved:
        right.click()
    assert saved.value.status == 201
    expect(page.locator("#feedback-status")).to_have_text("Thanks! Your drawing is saved.")


def test_a_pause_under_a_student_is_said_and_lifted(open_page, feedback_app):
    url, app = feedback_app()
    page = open_page("/", base_url=url)
    drawn_seven(page)
    expect(page.locator("#feedback-right")).to_be_enabled()

    set_collecting(app, False)
    status = page.locator("#feedback-status")
    expect(status).to_have_text(PAUSED, timeout=NOTICED_WITHIN_MS)
    expect(page.locator("#feedback")).to_be_visible()
    expect(page.locator("#feedback-right")).to_be_hidden()
    page.keyboard.press("Enter")   # keys press only what is on the screen
    page.wait_for_timeout(300)
    assert app.extensions["store"].count() == 0

    set_collecting(app, True)
    expect(page.locator("#feedback-right")).to_be_enabled(timeout=NOTICED_WITHIN_MS)
    expect(status).to_have_text("")


def test_right_clicked_after_the_teacher_paused_says_so(open_page, feedback_app, browser_problems):
    browser_problems.expect("status of 403")   # the refused save, on purpose
    url, app = feedback_app()
    page = open_page("/", base_url=url)
    drawn_seven(page)
    set_collecting(app, False)   # before the page's next question: the click is refused
    with page.expect_response("**/api/feedback") as refused:
        page.locator("#feedback-right").click()
    assert refused.value.status == 403
    expect(page.locator("#feedback-status")).to_have_text(PAUSED)
    expect(page.locator("#feedback-status")).not_to_have_class("feedback-status is-error")
    assert app.extensions["store"].count() == 0

    set_collecting(app, True)   # the same drawing can be answered once saving is back
    expect(page.locator("#feedback-right")).to_be_enabled(timeout=NOTICED_WITHIN_MS)
    with page.expect_response("**/api/feedback") as saved:
        page.locator("#feedback-right").click()
    assert saved.value.status == 201


def classroom_requests(page) -> list[str]:
    asked = []
    page.on("request", lambda request: asked.append(request.url) if "/api/classroom" in request.url else None)
    return asked


def test_a_hidden_tab_asks_nothing_and_asks_at_once_when_shown(open_page, feedback_app):
    url, app = feedback_app()
    page = open_page("/", base_url=url)
    asked = classroom_requests(page)
    page.evaluate("""() => {
        Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    page.wait_for_timeout(9000)
    assert asked == [], "no question while the tab is hidden"
    set_collecting(app, False)
    page.evaluate("""() => {
        Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'visible'});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    expect(page.locator("#feedback-status")).to_have_text(PAUSED, timeout=1500)
    assert len(asked) == 1


def test_failed_questions_are_quiet_and_spaced_out(open_page, feedback_app, browser_problems):
    browser_problems.expect("net::ERR_FAILED")   # Chromium logs each failed request on the console
    url, _app = feedback_app()
    page = open_page("/", base_url=url)
    asked = classroom_requests(page)
    page.route("**/api/classroom", lambda route: route.abort())
    drawn_seven(page)
    page.wait_for_timeout(14000)
    assert 1 <= len(asked) <= 3, f"a failing question is asked again later each time ({len(asked)} in 14 s)"
    expect(page.locator("#feedback-status")).to_have_text("")
    expect(page.locator("#feedback-right")).to_be_enabled()
