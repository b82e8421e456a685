"""The classroom in real Chromium: presenter mode on every projector size, keys that press only what is on the
screen, the join QR code, the teacher moderating from the browser, and phones.

Screenshots of presenter mode go to a temporary folder, or to DIGITDRAW_SCREENSHOTS when set, for a person to
look at.
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest
from playwright.sync_api import expect

from live_server import serve
from pad_strokes import SEVEN, SEVENTEEN, draw_with_finger, draw_with_mouse, seven, wait_for_answer
from support import TEACHER_TOKEN
from teacher_pages import sign_in

PROJECTORS = [(800, 600), (1024, 768), (1280, 720), (1280, 800), (1366, 768), (1920, 1080), (3840, 2160)]
# What a room must read and a teacher must reach, by selector; none may overlap another or leave the screen.
PRESENTER_PARTS = {
    "answer": "#answer-digit",
    "confidence": "#answer-confidence",
    "sentence": "#status",
    "model input": ".model-sees",
    "bars": "#bars",
    "pad": "#pad-surface",
    "model": "#model",
    "compare": ".switch",
    "digit/number": "#mode",
    "clear": "#clear",
    "undo stroke": "#undo",
    "join": "#join",
    "presenter": "#presenter",
    "right": "#feedback-right",
    "wrong digits": ".feedback-digits",
    "saved": ".feedback-saved",
}


def box_of(page, selector: str) -> dict:
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is on the screen"
    return box


def overlap(a: dict, b: dict) -> bool:
    return (min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"]) > 0.5
            and min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"]) > 0.5)


def inside(box: dict, width: int, height: int) -> bool:
    return (box["x"] >= -0.5 and box["y"] >= -0.5 and box["x"] + box["width"] <= width + 0.5
            and box["y"] + box["height"] <= height + 0.5)


def stored(app) -> int:
    return app.extensions["store"].count()


def start_presenter(page):
    page.keyboard.press("p")
    expect(page.locator("#join-dialog")).to_be_visible()   # it starts with the join QR code
    page.keyboard.press("Escape")
    expect(page.locator("#join-dialog")).to_be_hidden()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width, height", PROJECTORS, ids=[f"{w}x{h}" for w, h in PROJECTORS])
def test_presenter_mode_fits_every_projector(open_page, screenshot_dir, width, height, scheme):
    page = open_page("/", viewport={"width": width, "height": height}, color_scheme=scheme)
    start_presenter(page)
    draw_with_mouse(page, seven(PROJECTORS.index((width, height)) * 2 + (scheme == "dark")))   # saved: each its own
    wait_for_answer(page)
    assert page.locator("#answer-digit").text_content() == "7"
    page.keyboard.press("Enter")   # the tallest state: the answer saved, its confirmation and Undo shown
    expect(page.locator("#feedback-undo")).to_be_visible()
    page.screenshot(path=screenshot_dir / f"presenter-{width}x{height}-{scheme}.png")

    assert_presenter_layout(page, width, height)


def assert_presenter_layout(page, width: int, height: int, parts: dict = PRESENTER_PARTS, sentence_lines: int = 2):
    boxes = {name: box_of(page, selector) for name, selector in parts.items()}
    outside = [name for name, box in boxes.items() if not inside(box, width, height)]
    assert outside == [], f"outside the {width}x{height} screen: {outside}"
    overlapping = [(a, b) for a, b in itertools.combinations(boxes, 2) if overlap(boxes[a], boxes[b])]
    assert overlapping == [], f"overlapping at {width}x{height}: {overlapping}"
    clipped = page.evaluate("""() => [...document.querySelectorAll(
            '#answer-digit, #answer-confidence, #status, .bar-value, .bar-digit, .button, .switch, .segmented span')]
        .filter(node => node.scrollWidth > node.clientWidth + 1).map(node => node.id || node.className)""")
    assert clipped == [], f"text cut off at {width}x{height}"
    lines = page.evaluate("""() => { const s = document.querySelector('#status');
        return s.getBoundingClientRect().height / parseFloat(getComputedStyle(s).lineHeight); }""")
    assert lines < sentence_lines + 0.5, f"the sentence under the answer takes at most {sentence_lines} lines"
    readable = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.bar')).fontSize)")
    assert readable >= 12 and readable >= height / 60, "the bars' digits are large enough for the back of a room"
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width, height", [(800, 600), (1024, 768)])
def test_presenter_mode_fits_a_number_and_the_model_comparison(open_page, width, height):
    page = open_page("/", viewport={"width": width, "height": height})
    start_presenter(page)
    page.get_by_role("radio", name="Number").click()
    draw_with_mouse(page, SEVENTEEN)
    wait_for_answer(page)
    assert page.locator("#answer-digit").text_content() == "17"
    number_parts = {**PRESENTER_PARTS, "digits found": "#digit-chips"}
    del number_parts["saved"], number_parts["confidence"]   # nothing saved (a label is one digit), no one confidence
    assert_presenter_layout(page, width, height, number_parts)

    page.get_by_role("radio", name="Digit").click()
    page.locator("#clear").click()
    page.get_by_role("checkbox", name="Compare all models").click()
    draw_with_mouse(page, SEVEN)
    wait_for_answer(page)
    compare_parts = {name: selector for name, selector in PRESENTER_PARTS.items() if name not in ("bars", "saved")}
    assert_presenter_layout(page, width, height, {**compare_parts, "every model": "#compare-grid"})
    assert page.locator("#compare-grid .compare-card").count() == 3


def test_keys_store_nothing_while_right_and_wrong_are_hidden(open_page, feedback_app):
    url, app = feedback_app()
    teacher = app.test_client()
    headers = {"Authorization": f"Bearer {TEACHER_TOKEN}"}
    assert teacher.post("/api/classroom", json={"collecting": False}, headers=headers).status_code == 200
    page = open_page("/", base_url=url, viewport={"width": 1280, "height": 720})
    sent = []
    page.on("request", lambda request: sent.append(request.url) if "/api/feedback" in request.url else None)
    start_presenter(page)
    draw_with_mouse(page, SEVEN)
    wait_for_answer(page)
    expect(page.locator("#feedback")).to_be_hidden()
    for key in ("3", "Enter", "y", "7", "u"):
        page.keyboard.press(key)
    page.wait_for_timeout(300)
    assert sent == [], "a key pressed nothing that is not on the screen: no answer was even sent"
    assert stored(app) == 0


def test_in_presenter_mode_an_answer_is_confirmed_and_undone(open_page, feedback_app):
    url, app = feedback_app()
    page = open_page("/", base_url=url, viewport={"width": 1024, "height": 768})
    start_presenter(page)
    draw_with_mouse(page, SEVEN)
    wait_for_answer(page)
    with page.expect_response("**/api/feedback"):
        page.keyboard.press("3")
    expect(page.locator("#feedback-status")).to_have_text("Thanks! Your drawing is saved.")
    assert stored(app) == 1
    with page.expect_response("**/api/feedback/undo") as undone:
        page.keyboard.press("u")
    assert undone.value.status == 200
    expect(page.locator("#feedback-status")).to_have_text("Taken back: your drawing is deleted.")
    expect(page.locator("#feedback-undo")).to_be_hidden()
    assert stored(app) == 0


@pytest.mark.parametrize("control", ["#eraser", "#presenter", "#feedback-right"])
def test_after_a_button_is_clicked_the_keys_are_shortcuts_again(open_page, feedback_app, control):
    url, app = feedback_app()
    page = open_page("/", base_url=url)
    draw_with_mouse(page, SEVEN)
    wait_for_answer(page)
    page.locator(control).click()
    if control == "#presenter":
        page.keyboard.press("Escape")   # the join dialog it opens
    page.wait_for_function("() => document.activeElement === document.body")   # focus went back to the page
    page.keyboard.press("c")
    expect(page.locator("#answer-digit")).to_have_text("?")
    assert page.locator("#clear").is_disabled()


def test_the_join_qr_code_decodes_to_the_pages_address(open_page, server_url):
    page = open_page("/", viewport={"width": 1280, "height": 800})
    page.locator("#join").click()
    qr = page.locator("#join-qr")
    expect(qr).to_be_visible()
    page.wait_for_function("() => document.querySelector('#join-qr').complete "
                           "&& document.querySelector('#join-qr').naturalWidth > 0")
    # loaded is not yet painted: wait until the image is decoded and two frames have been drawn, as a person sees it
    page.evaluate("() => document.querySelector('#join-qr').decode().then(() => new Promise("
                  "(done) => requestAnimationFrame(() => requestAnimationFrame(done))))")
    pixels = cv2.imdecode(np.frombuffer(qr.screenshot(), np.uint8), cv2.IMREAD_GRAYSCALE)
    text, _points, _straight = cv2.QRCodeDetector().detectAndDecode(pixels)
    assert text == server_url + "/"
    assert page.locator("#join-address").text_content() == server_url + "/"
    page.keyboard.press("Escape")
    expect(page.locator("#join-dialog")).to_be_hidden()


def save_with_the_page(page, variant: int = 0):
    if page.locator("#clear").is_enabled():
        page.locator("#clear").click()
    draw_with_mouse(page, seven(variant))
    wait_for_answer(page)
    with page.expect_response("**/api/feedback") as saved:
        page.keyboard.press("Enter")
    assert saved.value.status == 201
    return saved.value.json()["id"]


def test_the_teacher_moderates_and_turns_collecting_off_from_the_browser(open_page, feedback_app, browser_problems):
    browser_problems.expect("status of 403")   # the wrong token and the refused save, on purpose
    url, app = feedback_app()
    student = open_page("/", base_url=url)
    first, second = save_with_the_page(student, 0), save_with_the_page(student, 1)

    teacher = open_page("/teacher", base_url=url)
    teacher.locator("#token").fill("a-wrong-teacher-token")
    with teacher.expect_navigation():
        teacher.locator("button[type=submit]").click()
    expect(teacher.locator("#sign-in-error")).to_have_text("That is not the teacher's token.")
    sign_in(teacher)
    expect(teacher.locator("#collecting")).to_be_checked()

    teacher.goto("/drawings")
    drawing = teacher.locator(f".drawing[data-id='{first}']")
    drawing.get_by_role("button", name=f"See drawing #{first} as it was drawn").click()
    expect(teacher.locator("#original-dialog")).to_be_visible()
    teacher.wait_for_function("() => document.querySelector('#original-image').naturalWidth > 0")
    teacher.keyboard.press("Escape")
    teacher.locator(f".drawing[data-id='{second}']").get_by_role("button", name=f"Delete drawing #{second}").click()
    expect(teacher.get_by_role("button", name=f"Undo deleting drawing #{second}")).to_be_visible()
    teacher.reload()   # leaving the page sends the waiting deletion at once (test_browser_drawings_live.py)
    for _ in range(50):
        if [d.id for d in app.extensions["store"].page(10)] == [first]:
            break
        teacher.wait_for_timeout(100)
    assert [d.id for d in app.extensions["store"].page(10)] == [first]

    student.goto("/drawings")
    expect(student.locator("[data-action]")).to_have_count(0)   # students never see the teacher's controls
    expect(student.locator(".drawing")).to_have_count(1)

    teacher.goto("/teacher")
    teacher.locator("#collecting").click()
    expect(teacher.locator("#collecting-status")).to_have_text("Collecting is off for everyone.")
    student.goto("/")
    draw_with_mouse(student, SEVEN)
    wait_for_answer(student)
    expect(student.locator("#feedback")).to_be_hidden()
    refused = student.evaluate("""async () => {
        const form = new FormData();
        const png = await new Promise(done => document.querySelector('#pad').toBlob(done, 'image/png'));
        form.append('image', png, 'pad.png');
        form.append('label', '7');
        const response = await fetch('/api/feedback', {method: 'POST', body: form});
        return [response.status, (await response.json()).error];
    }""")
    assert refused == [403, "The teacher has turned collecting drawings off, so answers are not kept now."]

    teacher.locator("#clear-all-button").click()
    teacher.locator("#clear-all-confirm").click()
    expect(teacher.locator("#clear-all-status")).to_have_text("Deleted 1 drawing.")
    assert stored(app) == 0


def other_site(environ, start_response):
    """A page on another port of the same host: the same site, another origin."""
    start_response("200 OK", [("Content-Type", "text/html")])
    return [b"<!doctype html><title>elsewhere</title>"]


def test_a_page_of_another_origin_cannot_act_for_the_signed_in_teacher(open_page, feedback_app, browser_problems):
    browser_problems.expect("status of 403")   # the refusal, shown as a page, asks for /favicon.ico (404)
    browser_problems.expect("status of 404")
    url, _app = feedback_app()
    teacher = open_page("/teacher", base_url=url)
    sign_in(teacher)

    other_url, stop = serve(other_site)
    try:
        teacher.goto(other_url)
        # A form on that page posts to the app's sign-out: the browser sends the teacher's cookie along (same
        # site), but the app sees another origin's page (Sec-Fetch-Site: same-site) and refuses.
        teacher.set_content(f'<form method="post" action="{url}/teacher/sign-out"><button>Go</button></form>')
        with teacher.expect_response(f"{url}/teacher/sign-out") as answer:
            teacher.locator("button").click()
        assert answer.value.status == 403
    finally:
        stop()
    teacher.goto(url + "/teacher")
    expect(teacher.locator("#collecting")).to_be_visible()   # still signed in: the sign-out was refused


IMAGE_WIDTH = """url => new Promise(done => {
    const image = new Image();
    image.onload = () => done(image.naturalWidth);
    image.onerror = () => done(0);
    image.src = url;
})"""


def test_a_page_on_another_port_cannot_embed_a_drawings_original(open_page, feedback_app, browser_problems):
    """Another port of the same host is the same site, so the teacher's SameSite=Strict cookie goes along with
    its <img>; Cross-Origin-Resource-Policy keeps the image (which ids exist, their sizes) from that page."""
    browser_problems.expect("ERR_BLOCKED_BY_RESPONSE")   # Chromium reports the image it refused
    url, _app = feedback_app()
    drawing = save_with_the_page(open_page("/", base_url=url))
    teacher = open_page("/teacher", base_url=url)
    sign_in(teacher)
    original = f"{url}/api/drawings/{drawing}/original"
    assert teacher.evaluate(IMAGE_WIDTH, original) > 0   # the teacher's own pages show it

    other_url, stop = serve(other_site)
    try:
        teacher.goto(other_url)
        assert teacher.evaluate(IMAGE_WIDTH, original) == 0
    finally:
        stop()


def test_signing_out_everywhere_ends_another_browsers_session_and_a_copied_cookie(open_page, feedback_app):
    url, _app = feedback_app()
    laptop, phone = open_page("/teacher", base_url=url), open_page("/teacher", base_url=url)
    sign_in(laptop)
    sign_in(phone)
    # Someone on the classroom's wifi copies the laptop's cookie and its page's CSRF token into their browser.
    thief = open_page("/", base_url=url)
    thief.context.add_cookies(laptop.context.cookies())
    csrf = {"X-CSRFToken": laptop.locator('meta[name="csrf-token"]').get_attribute("content")}
    assert thief.request.get(f"{url}/api/finetune").status == 204
    assert thief.request.post(f"{url}/api/classroom", data={"collecting": True}, headers=csrf).status == 200

    with phone.expect_navigation():
        phone.get_by_role("button", name="Sign out everywhere").click()
    expect(phone.locator("#token")).to_be_visible()
    laptop.reload()
    expect(laptop.locator("#token")).to_be_visible()   # the other browser is signed out too
    assert thief.request.get(f"{url}/api/finetune").status == 403
    assert thief.request.post(f"{url}/api/classroom", data={"collecting": False}, headers=csrf).status == 403
    assert thief.request.get(f"{url}/api/classroom").json() == {"collecting": True, "language": None}


PHONE_390 = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "device_scale_factor": 3}


def test_on_a_phone_right_is_in_reach_after_drawing_with_a_finger(open_page, feedback_app):
    url, app = feedback_app()
    page = open_page("/", base_url=url, **PHONE_390)
    draw_with_finger(page, SEVEN)
    wait_for_answer(page)
    assert page.evaluate("window.scrollY") == 0
    right = box_of(page, "#feedback-right")
    assert right["y"] >= 0 and right["y"] + right["height"] <= 844, "Right is on the screen without scrolling"
    pad = box_of(page, "#pad-surface")
    assert pad["y"] >= 0, "and so is the pad"
    # Chromium's gesture detector takes a tap right after the drawing's touches as their double tap (no click);
    # a person's finger takes longer than half a second from the pad to the button.
    page.wait_for_timeout(500)
    with page.expect_response("**/api/feedback") as saved:
        page.locator("#feedback-right").tap()
    assert saved.value.status == 201 and stored(app) == 1
    assert page.evaluate("window.scrollY") == 0
    hidden_keys = page.evaluate("[...document.querySelectorAll('kbd')].every(kbd => !kbd.checkVisibility())")
    assert hidden_keys, "no keyboard hints on a touch screen"
    assert "Enter" not in page.locator("#feedback-hint").text_content()


def test_no_page_is_wider_than_a_320_pixel_phone(open_page, feedback_app, mnist):
    url, app = feedback_app()
    client = app.test_client()
    from support import canvas_png, post_image
    for index in range(12):   # drawings of several labels, so /drawings has its table and confusion matrix
        post_image(client, canvas_png(mnist.x_test[index]), "/api/feedback", label=str(mnist.y_test[index]))
    phone = {"viewport": {"width": 320, "height": 640}, "has_touch": True, "is_mobile": True}
    page = open_page("/", base_url=url, **phone)
    for path in ("/", "/evaluation", "/drawings", "/join", "/teacher"):
        page.goto(path)
        if path == "/evaluation":
            page.wait_for_selector("#evaluation[data-ready='true']")
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, path
    sign_in(page)
    for path in ("/teacher", "/drawings"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, f"{path}, signed in"
    matrix = page.locator("table.confusion")
    assert matrix.bounding_box()["width"] <= page.locator("table.confusion").evaluate(
        "table => table.parentElement.clientWidth") + 0.5, "the confusion matrix fits its card"
