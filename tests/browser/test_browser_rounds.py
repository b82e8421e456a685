"""A class round in real Chromium, as a lesson runs it: the teacher's wall on a projector and three phones (390x844,
touch). The teacher starts "Draw a 4", the phones show it within seconds, each student draws with a finger and
sends, the tiles arrive on the wall with the model's reading, the confusion square counts them, a hidden tile
leaves the wall and the store, a phone that was offline comes back to the round as it is now, the end shows the
summary. Screenshots go to DIGITDRAW_SCREENSHOTS when set."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from pad_strokes import draw_with_finger
from support import TEACHER_TOKEN
from teacher_pages import PHONE, open_wall, sign_in

PROJECTORS = [(1024, 768), (1280, 720), (1920, 1080)]


def four(variant: int) -> list:
    """A 4 drawn open, its stem a little further right for each student (the store keeps each drawing once)."""
    stem = 0.6 + 0.02 * variant
    return [[(0.52, 0.14), (0.24, 0.6), (0.8, 0.6)], [(stem, 0.32), (stem, 0.88)]]


def tile_ids(wall) -> list[int]:
    return [int(value) for value in wall.locator("#wall-tiles .tile").evaluate_all(
        "tiles => tiles.map(tile => tile.dataset.id)")]


def test_a_projector_and_three_phones_run_a_round(feedback_app, browser, browser_problems, screenshot_dir):
    url, app = feedback_app(TEACHER_TOKEN=TEACHER_TOKEN)
    projector, wall = open_wall(browser, url, browser_problems)
    expect(wall.locator("#wall-prompt")).to_have_text("Start a round for the class")
    phones = []
    for _ in range(3):
        context = browser.new_context(base_url=url, reduced_motion="reduce", **PHONE)
        phone = context.new_page()
        browser_problems.watch(phone)
        phone.goto("/")
        phones.append(phone)
    expect(phones[0].locator("#round")).to_be_hidden()

    wall.locator('[data-start-digit="4"]').click()
    expect(wall.locator("#wall-prompt")).to_have_text("Draw a 4")
    for phone in phones:
        expect(phone.locator("#round-prompt")).to_have_text("Draw a 4", timeout=5000)
        expect(phone.locator("#feedback")).to_be_hidden()   # one Send button during a round
    teachers_page = projector.new_page()   # the teacher runs the round from the wall: no Send on their page
    browser_problems.watch(teachers_page)
    teachers_page.goto("/")
    teachers_page.wait_for_timeout(1500)
    expect(teachers_page.locator("#round")).to_be_hidden()
    expect(teachers_page.locator("#class-wall")).to_be_visible()
    teachers_page.close()
    presenting = projector.new_page()   # presenter mode on a browser no teacher signed in: the pad stays whole
    browser_problems.watch(presenting)
    presenting.context.clear_cookies()
    presenting.goto("/")
    expect(presenting.locator("#round")).to_be_visible(timeout=5000)
    presenting.locator("#presenter").click()
    presenting.keyboard.press("Escape")   # the join dialog presenter mode opens with
    expect(presenting.locator("#round")).to_be_hidden()
    expect(presenting.locator("#feedback")).to_be_visible()
    presenting.close()
    sign_in(wall)
    wall.goto("/wall")
    for variant, phone in enumerate(phones):
        draw_with_finger(phone, four(variant))
        phone.locator("#round-send").click()
        expect(phone.locator("#round-status")).to_contain_text("Sent ✓ The model read a 4")
    phones[0].screenshot(path=str(screenshot_dir / "round-phone-390.png"))

    expect(wall.locator("#wall-tiles .tile")).to_have_count(3, timeout=5000)
    expect(wall.locator("#wall-sent")).to_have_text("3")
    expect(wall.locator("#wall-right")).to_have_text("3 of 3")
    # The three phones; the presenting page above follows the round too while it is open (counted when it asked
    # twice, as a device that kept its nickname), and drops out of the count 15 s after it closed.
    expect(wall.locator("#wall-devices")).to_have_text(re.compile("^[34]$"))
    assert wall.locator("#wall-tiles .tile-reading").all_inner_texts() == ["4", "4", "4"]
    square = wall.locator("#wall-matrix tbody tr").nth(4).locator("td").nth(4)
    expect(square).to_have_text("3")
    square.locator("button").click()
    expect(wall.locator("#wall-tiles .tile:visible")).to_have_count(3)

    hidden = tile_ids(wall)[0]
    wall.locator(f'.tile[data-id="{hidden}"] .tile-hide').click()
    expect(wall.locator("#wall-tiles .tile")).to_have_count(2)
    assert app.extensions["store"].original(hidden) is None
    expect(wall.locator("#wall-sent")).to_have_text("2")

    offline = phones[2]
    browser_problems.expect("ERR_INTERNET_DISCONNECTED")   # its polls while the wifi is gone
    offline.context.set_offline(True)
    wall.locator("#wall-pause").click()
    expect(wall.locator("#wall-state")).to_have_text("Round paused")
    offline.wait_for_timeout(1500)
    offline.context.set_offline(False)
    expect(offline.locator("#round-status")).to_contain_text("paused", timeout=10000)
    expect(offline.locator("#round-send")).to_be_disabled()
    wall.locator("#wall-pause").click()
    expect(wall.locator("#wall-state")).to_have_text("Round open")

    for width, height in PROJECTORS:
        wall.set_viewport_size({"width": width, "height": height})
        assert wall.evaluate("document.documentElement.scrollWidth") <= width

    wall.locator("#wall-end").click()
    expect(wall.locator("#wall-summary")).to_have_text("The model read 2 of 2 right.")
    expect(wall.locator("#wall-digits tbody tr")).to_have_count(1)
    for phone in phones:
        expect(phone.locator("#round")).to_be_hidden(timeout=5000)
        expect(phone.locator("#feedback")).to_be_visible()
    projector.close()
    for phone in phones:
        phone.context.close()
    assert browser_problems.unexpected() == []


def test_a_student_opening_the_wall_is_sent_to_sign_in(open_page):
    page = open_page("/wall")
    expect(page.locator("#token")).to_be_visible()
    assert page.url.endswith("/teacher?next=/wall")


def seeded_round(app, mnist, fours: int = 27, others=(9, 1, 7)) -> int:
    """A "Draw a 4" round with `fours` 4s and one each of `others` (read as what they are: misread), each from
    a device of its own (its own nickname)."""
    import numpy as np

    from support import canvas_png, post_image

    teacher = app.test_client()
    round_id = teacher.post("/api/rounds", json={"kind": "digit", "digit": 4},
                            headers={"Authorization": f"Bearer {TEACHER_TOKEN}"}).get_json()["id"]
    indexes = list(np.flatnonzero(mnist.y_test == 4)[:fours]) + [int(np.flatnonzero(mnist.y_test == d)[0])
                                                                  for d in others]
    for index in indexes:
        sent = post_image(app.test_client(), canvas_png(mnist.x_test[index]), f"/api/rounds/{round_id}/drawings")
        assert sent.status_code == 201
    return round_id


def test_a_wall_of_thirty_drawings_fits_every_projector_and_ends_with_its_summary(
        feedback_app, browser, browser_problems, screenshot_dir, mnist):
    url, app = feedback_app(TEACHER_TOKEN=TEACHER_TOKEN)
    seeded_round(app, mnist)
    context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 720}, reduced_motion="reduce")
    wall = context.new_page()
    browser_problems.watch(wall)
    sign_in(wall)
    wall.goto("/wall")
    expect(wall.locator("#wall-tiles .tile")).to_have_count(30)
    expect(wall.locator("#wall-sent")).to_have_text("30")
    right = wall.locator("#wall-right").inner_text()
    for (width, height), name in (((1280, 720), "wall-1280.png"), ((1024, 768), "wall-1024.png"),
                                  ((1920, 1080), None)):   # 1920x1080: the README shows it at the end
        wall.set_viewport_size({"width": width, "height": height})
        assert wall.evaluate("document.documentElement.scrollWidth") <= width
        prompt, counts = wall.locator("#wall-prompt").bounding_box(), wall.locator(".wall-counts").bounding_box()
        assert prompt["x"] + prompt["width"] <= counts["x"] or prompt["y"] + prompt["height"] <= counts["y"]
        if name:
            wall.screenshot(path=str(screenshot_dir / name))
    wall.locator("#wall-end").click()
    read_right, read = (int(part) for part in right.split(" of "))
    expect(wall.locator("#wall-summary")).to_have_text(
        f"The model read {read_right} of {read} right: the misread ones come first.")
    assert read == 30 and read_right <= 27
    first = wall.locator("#wall-tiles .tile").first
    expect(first).to_have_attribute("data-right", "false")   # the misread ones first
    expect(wall.locator("#wall-digits tbody tr")).to_have_count(1)
    wall.screenshot(path=str(screenshot_dir / "wall-1920-ended.png"))

    first.locator(".tile-open").click()   # Look inside that drawing, on the projector
    expect(wall.locator("#wall-inside")).to_be_visible()
    expect(wall.locator("#inside [data-part='stages'] li").first).to_be_visible(timeout=10000)
    context.close()
    assert browser_problems.unexpected() == []


def test_a_phone_in_an_any_digit_round_chooses_its_digit_before_sending(feedback_app, browser, browser_problems,
                                                                         screenshot_dir):
    url, app = feedback_app(TEACHER_TOKEN=TEACHER_TOKEN)
    app.test_client().post("/api/rounds", json={"kind": "any"}, headers={"Authorization": f"Bearer {TEACHER_TOKEN}"})
    context = browser.new_context(base_url=url, reduced_motion="reduce",
                                  **{**PHONE, "viewport": {"width": 360, "height": 740}})
    phone = context.new_page()
    browser_problems.watch(phone)
    phone.goto("/")
    expect(phone.locator("#round-prompt")).to_have_text("Draw any digit")
    draw_with_finger(phone, four(0))
    expect(phone.locator("#round-send")).to_be_disabled()   # which digit first
    phone.locator("#round-digits label").nth(4).click()
    phone.locator("#round-send").click()
    expect(phone.locator("#round-status")).to_contain_text("Sent ✓")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.locator("#round-digits label").nth(4).click()
    phone.screenshot(path=str(screenshot_dir / "round-phone-360.png"))
    context.close()
    assert browser_problems.unexpected() == []
