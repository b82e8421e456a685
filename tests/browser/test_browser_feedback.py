"""Saying "right" or "wrong, it's a _" on the drawing page, in real Chromium, and finding it on /drawings.

Each test serves its own app on a fresh SQLite file, so what it counts is only what it saved.
"""

from __future__ import annotations

import base64
import io
from unittest.mock import ANY

import numpy as np
from PIL import Image
from playwright.sync_api import expect

from pad_strokes import ONE, SEVEN, canvas_png, draw_with_mouse, wait_for_answer
from webapp.store.drawings import NewDrawing

SAVED = "Thanks! Your drawing is saved."   # students never see a drawing's id


def model_input_for(app, png: bytes) -> np.ndarray:
    """The 28x28 input /api/predict computes for these exact canvas pixels."""
    body = app.test_client().post("/api/predict", data={"image": (io.BytesIO(png), "pad.png")}).get_json()
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(body["input"].split(",", 1)[1]))))


def test_wrong_its_a_4_is_saved_and_shown_on_the_drawings_page(open_page, feedback_app):
    url, app = feedback_app()
    page = open_page("/", base_url=url)
    draw_with_mouse(page, ONE)
    wait_for_answer(page)
    said = page.locator("#answer-digit").text_content()

    page.get_by_role("button", name="Wrong, it's a 4").click()
    expect(page.locator("#feedback-status")).to_have_text(SAVED)
    expect(page.get_by_role("button", name="Wrong, it's a 4")).to_be_disabled()   # one answer per prediction

    _, stored_x, stored_y = app.extensions["store"].labelled_inputs()
    assert stored_y.tolist() == [4]
    assert np.abs(stored_x[0].astype(int) - model_input_for(app, canvas_png(page))).max() <= 1

    page.get_by_role("link", name="See every drawing people labelled").click()
    page.wait_for_url("**/drawings")
    drawing = page.locator(".drawing[data-id='1']")
    expect(drawing).to_contain_text("#1: a 4")
    expect(drawing).to_contain_text(f"said {said}")
    expect(page.locator(".model-accuracy")).to_have_count(len(app.extensions["models"].names))
    expect(page.locator("table.confusion")).to_be_visible()


def test_keys_answer_once_per_prediction_and_clearing_withdraws_the_question(open_page, feedback_app):
    url, app = feedback_app()
    page = open_page("/", base_url=url)
    draw_with_mouse(page, SEVEN)
    wait_for_answer(page)
    said = int(page.locator("#answer-digit").text_content())
    expect(page.locator("#feedback-right")).to_have_text(f"Right, it's a {said}Enter")

    page.keyboard.press("Enter")
    expect(page.locator("#feedback-status")).to_have_text(SAVED)
    page.keyboard.press("4")
    page.keyboard.press("c")
    expect(page.locator("#feedback-right")).to_be_disabled()
    page.keyboard.press("4")
    assert app.extensions["store"].labelled_inputs()[2].tolist() == [said]

    draw_with_mouse(page, ONE)
    wait_for_answer(page)
    with page.expect_response("**/api/feedback"):
        page.keyboard.press("4")
    expect(page.locator("#feedback-status")).to_have_text(SAVED)
    assert app.extensions["store"].labelled_inputs()[2].tolist() == [said, 4]


def test_clicking_right_on_our_own_page_stores_the_drawing(open_page, feedback_app):
    """The browser sends Origin and Sec-Fetch-Site with the post; our own page passes the cross-site check."""
    url, app = feedback_app()
    page = open_page("/", base_url=url)
    draw_with_mouse(page, SEVEN)
    wait_for_answer(page)
    said = int(page.locator("#answer-digit").text_content())
    with page.expect_response("**/api/feedback") as answer:
        page.locator("#feedback-right").click()
    response = answer.value
    assert response.status == 201 and response.json() == {"id": 1, "label": said, "undo": ANY, "undo_seconds": 60}
    sent = response.request.all_headers()
    assert sent["origin"] == url and sent["sec-fetch-site"] == "same-origin"   # really checked, not absent
    expect(page.locator("#feedback-status")).to_have_text(SAVED)
    assert app.extensions["store"].labelled_inputs()[2].tolist() == [said]


def test_keys_answer_after_a_toggle_was_clicked(open_page, feedback_app):
    url, app = feedback_app()
    page = open_page("/", base_url=url)
    draw_with_mouse(page, ONE)
    compare = page.get_by_role("checkbox", name="Compare all models")
    compare.click()
    wait_for_answer(page)
    said = int(page.locator("#answer-digit").text_content())
    assert compare.evaluate("toggle => toggle !== document.activeElement"), "focus went back to the page"
    with page.expect_response("**/api/feedback") as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 201
    expect(page.locator("#feedback-status")).to_have_text(SAVED)

    page.keyboard.press("c")
    draw_with_mouse(page, SEVEN)
    for mode in ("Number", "Digit"):
        page.get_by_role("radio", name=mode).click()
        wait_for_answer(page)
    with page.expect_response("**/api/feedback") as answer:
        page.keyboard.press("4")
    assert answer.value.status == 201
    expect(page.locator("#feedback-status")).to_have_text(SAVED)
    assert app.extensions["store"].labelled_inputs()[2].tolist() == [said, 4]


def test_in_compare_mode_the_answer_is_stored_for_the_selected_model(open_page, feedback_app):
    url, app = feedback_app()
    chosen = app.extensions["models"].names[-1]
    page = open_page("/", base_url=url)
    page.locator("#model").select_option(chosen)
    page.get_by_role("checkbox", name="Compare all models").check()
    draw_with_mouse(page, SEVEN)
    wait_for_answer(page)
    said = int(page.locator("#answer-digit").text_content())
    with page.expect_response("**/api/feedback") as answer:
        page.locator("#feedback-right").click()
    assert answer.value.status == 201
    assert answer.value.json() == {"id": 1, "label": said, "undo": ANY, "undo_seconds": 60}
    stored = app.extensions["store"].page(1)[0]
    assert (stored.model, stored.prediction, stored.label) == (chosen, said, said)


def test_an_unreachable_server_is_said_in_a_sentence(open_page, feedback_app, browser_problems):
    browser_problems.expect("net::ERR_FAILED")   # Chromium logs the failed request on the console
    url, _ = feedback_app()
    page = open_page("/", base_url=url)
    draw_with_mouse(page, ONE)
    wait_for_answer(page)
    page.route("**/api/feedback", lambda route: route.abort())
    page.keyboard.press("4")
    status = page.locator("#feedback-status")
    expect(status).to_have_text("Could not save your answer: The server could not be reached. "
                                "Check the connection and try again.")
    expect(status).to_have_class("feedback-status is-error")
    expect(page.get_by_role("button", name="Wrong, it's a 4")).to_be_enabled()


def test_a_refused_answer_is_shown_and_can_be_given_again(open_page, feedback_app, browser_problems):
    url, app = feedback_app(FEEDBACK_MAX_ROWS=1)
    app.extensions["store"].add(NewDrawing(image=b"png", pixels=np.zeros((28, 28), np.uint8), label=0))
    browser_problems.expect("507")   # Chromium logs the refused request on the console
    page = open_page("/", base_url=url)
    draw_with_mouse(page, ONE)
    wait_for_answer(page)
    page.get_by_role("button", name="Wrong, it's a 4").click()
    status = page.locator("#feedback-status")
    expect(status).to_have_text("Could not save your answer: The drawings store is full: it keeps at most 1 drawing. "
                                "A teacher can export the drawings and delete some to make room.")
    expect(status).to_have_class("feedback-status is-error")
    expect(page.get_by_role("button", name="Wrong, it's a 4")).to_be_enabled()
