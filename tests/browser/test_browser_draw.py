"""The drawing page in real headless Chromium against the live app and its real models."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from live_server import serve
from pad_strokes import (
    ONE,
    ONE_UPWARDS,
    SEVEN,
    SEVEN_IN_TWO_STROKES,
    SEVENTEEN,
    bar_fractions,
    canvas_png,
    draw_with_finger,
    draw_with_mouse,
    wait_for_answer,
)
from support import make_app
from training.mnist import load_mnist

PHONE = {"viewport": {"width": 360, "height": 740}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}


def server_answer(client, png: bytes, **fields) -> dict:
    """What the API says about exactly these pixels: the reference the page must agree with."""
    response = client.post("/api/predict", data={"image": (io.BytesIO(png), "pad.png"), **fields})
    assert response.status_code == 200
    return response.get_json()


def shown_digit(page) -> str:
    return page.locator("#answer-digit").text_content()


def ink_on_canvas(page) -> int:
    """How many canvas pixels carry ink (alpha > 0)."""
    alpha = np.asarray(Image.open(io.BytesIO(canvas_png(page))).convert("RGBA"))[..., 3]
    return int((alpha > 0).sum())


def assert_bars_follow(page, probabilities, container="#bars"):
    assert bar_fractions(page, container) == pytest.approx(probabilities, abs=0.01)
    top = page.locator(f"{container} .bar.is-top")
    assert top.count() == 1
    assert top.get_attribute("data-digit") == str(int(np.argmax(probabilities)))


@pytest.mark.parametrize("strokes, digit", [(ONE, "1"), (SEVEN, "7")], ids=["one", "seven"])
def test_a_digit_drawn_with_the_mouse_is_read_and_its_bars_follow_the_probabilities(open_page, client, strokes,
                                                                                      digit):
    page = open_page("/")
    draw_with_mouse(page, strokes)
    wait_for_answer(page)

    expected = server_answer(client, canvas_png(page))
    assert expected["digit"] == int(digit)
    assert shown_digit(page) == digit
    assert page.locator("#bars .bar").count() == 10
    assert_bars_follow(page, expected["probabilities"])
    assert page.locator("#model-input").get_attribute("src").startswith("data:image/png;base64,")


@pytest.mark.parametrize("strokes, digit", [(ONE_UPWARDS, "1"), (SEVEN, "7")], ids=["one", "seven"])
def test_a_digit_drawn_with_a_finger_on_a_phone_is_read_and_the_page_does_not_scroll(open_page, client, strokes,
                                                                                       digit):
    page = open_page("/", **PHONE)
    assert page.evaluate("document.documentElement.scrollHeight > innerHeight"), "the page could scroll"
    draw_with_finger(page, strokes)
    wait_for_answer(page)

    assert page.evaluate("[scrollX, scrollY]") == [0, 0]
    assert page.eval_on_selector("#pad", "pad => pad.width / pad.clientWidth") == 2, "crisp on a 2x screen"
    expected = server_answer(client, canvas_png(page))
    assert shown_digit(page) == digit == str(expected["digit"])
    assert_bars_follow(page, expected["probabilities"])


def test_the_drawing_survives_a_resize_of_the_window(open_page):
    page = open_page("/")
    draw_with_mouse(page, SEVEN)
    wait_for_answer(page)
    side_before, ink_before = page.eval_on_selector("#pad", "pad => pad.width"), ink_on_canvas(page)
    page.set_viewport_size({"width": 1024, "height": 640})
    page.wait_for_function("before => document.querySelector('#pad').width < before", arg=side_before)
    side_after = page.eval_on_selector("#pad", "pad => pad.width")
    ratio = (side_after / side_before) ** 2
    assert ink_on_canvas(page) == pytest.approx(ink_before * ratio, rel=0.1), "the strokes are redrawn, scaled"
    assert shown_digit(page) == "7"


def test_the_page_says_when_nothing_is_drawn(open_page):
    page = open_page("/")
    assert page.locator("#status").text_content().startswith("Draw a digit")
    draw_with_mouse(page, ONE)
    wait_for_answer(page)
    page.keyboard.press("e")
    draw_with_mouse(page, ONE)   # the eraser is wider than the pen: the ink is all gone
    wait_for_answer(page)
    assert ink_on_canvas(page) == 0
    assert shown_digit(page) == "?"
    assert page.locator("#status").text_content().startswith("I see no ink")


@pytest.fixture()
def doubtful_server(tmp_path):
    """A live app whose unsure threshold no answer can reach."""
    url, stop = serve(make_app(tmp_path / "drawings.sqlite", UNSURE_THRESHOLD=1.01))
    yield url
    stop()


def test_an_unsure_model_says_so_instead_of_pretending(open_page, doubtful_server):
    page = open_page("/", base_url=doubtful_server)
    draw_with_mouse(page, SEVEN)
    wait_for_answer(page)
    assert page.locator("#result").get_attribute("data-state") == "unsure"
    assert page.locator("#status").text_content().startswith("Not sure. Maybe a 7, maybe a ")


def test_undo_removes_the_last_stroke_and_clear_empties_the_pad(open_page):
    page = open_page("/")
    draw_with_mouse(page, SEVEN_IN_TWO_STROKES)
    wait_for_answer(page)
    whole = ink_on_canvas(page)

    page.locator("#undo").click()
    wait_for_answer(page)
    assert 0 < ink_on_canvas(page) < whole

    page.keyboard.press("z")
    assert ink_on_canvas(page) == 0
    assert page.locator("#result").get_attribute("data-state") == "empty"
    assert shown_digit(page) == "?"
    assert page.locator("#undo").is_disabled()

    for clear in (lambda: page.locator("#clear").click(), lambda: page.keyboard.press("c"),
                  lambda: page.keyboard.press("Escape")):
        draw_with_mouse(page, ONE)
        wait_for_answer(page)
        assert shown_digit(page) == "1"
        clear()
        assert ink_on_canvas(page) == 0
        assert shown_digit(page) == "?"
        assert bar_fractions(page) == [0] * 10


def test_the_eraser_takes_ink_away(open_page):
    page = open_page("/")
    draw_with_mouse(page, SEVEN)
    wait_for_answer(page)
    before = ink_on_canvas(page)
    page.keyboard.press("e")
    assert page.locator("#eraser").get_attribute("aria-pressed") == "true"
    draw_with_mouse(page, [[(0.2, 0.2), (0.8, 0.2)]])
    wait_for_answer(page)
    assert 0 < ink_on_canvas(page) < before


@pytest.fixture(scope="module")
def mnist_test_digits():
    mnist = load_mnist()
    return mnist.x_test, mnist.y_test


@pytest.mark.parametrize("index", [0, 1, 2])
def test_an_uploaded_mnist_test_png_is_shown_and_read(open_page, client, mnist_test_digits, tmp_path, index):
    images, labels = mnist_test_digits
    path = tmp_path / f"mnist-test-{index}.png"
    Image.fromarray(images[index]).save(path)
    page = open_page("/")
    page.locator("#upload").set_input_files(path)
    wait_for_answer(page)

    expected = server_answer(client, path.read_bytes())
    assert expected["digit"] == int(labels[index])
    assert shown_digit(page) == str(labels[index])
    assert_bars_follow(page, expected["probabilities"])
    assert ink_on_canvas(page) > 0, "the uploaded picture is shown on the pad"


def test_an_image_dropped_on_the_pad_is_read(open_page, mnist_test_digits):
    images, labels = mnist_test_digits
    buffer = io.BytesIO()
    Image.fromarray(images[0]).save(buffer, format="PNG")
    page = open_page("/")
    page.evaluate("""async (base64) => {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], 'dropped.png', {type: 'image/png'}));
        const surface = document.querySelector('#pad-surface');
        for (const type of ['dragenter', 'dragover', 'drop']) {
            surface.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true, cancelable: true}));
        }
    }""", base64.b64encode(buffer.getvalue()).decode())
    wait_for_answer(page)
    assert shown_digit(page) == str(labels[0])
    assert "dropping" not in page.locator("#pad-surface").get_attribute("class")


def test_an_upload_the_server_cannot_read_shows_its_sentence(open_page, client, browser_problems, tmp_path):
    browser_problems.expect("status of 415")   # Chromium logs every 4xx response as a console error
    path = tmp_path / "notes.png"
    path.write_text("these are my notes, not a picture")
    refusal = client.post("/api/predict", data={"image": (io.BytesIO(path.read_bytes()), "notes.png")})
    assert refusal.status_code == 415
    page = open_page("/")
    page.locator("#upload").set_input_files(path)
    wait_for_answer(page)
    error = page.locator("#error[role='alert']")
    assert error.text_content() == refusal.get_json()["error"]
    assert error.is_visible()


def test_number_mode_boxes_each_digit_and_reads_the_number(open_page):
    page = open_page("/")
    page.get_by_role("radio", name="Number").check()
    draw_with_mouse(page, SEVENTEEN)
    wait_for_answer(page)

    assert shown_digit(page) == "17"
    assert page.locator("#number-boxes .number-box").count() == 2
    assert page.locator("#number-boxes .number-box-label").all_text_contents() == ["1", "7"]
    assert page.locator("#digit-chips .digit-chip").count() == 2
    first, second = (page.locator("#number-boxes .number-box").nth(i).bounding_box() for i in range(2))
    assert first["x"] + first["width"] <= second["x"], "the boxes sit left to right over the strokes"


def watch_predictions(page) -> list:
    """Every /api/predict response the page gets from now on (read their bodies once the page is idle)."""
    responses = []
    page.on("response", lambda response: "/api/predict" in response.url and responses.append(response))
    return responses


def assert_one_request_asked_every_model(responses, models):
    assert len(responses) == 1, "one request per drawing update, not one per model"
    assert [answer["model"] for answer in responses[0].json()["models"]] == models


def assert_compare_cards_follow(page, client, png, models):
    cards = page.locator("#compare-grid .compare-card")
    assert [cards.nth(i).get_attribute("data-model") for i in range(cards.count())] == models
    for name in models:
        card = f"#compare-grid .compare-card[data-model='{name}']"
        expected = server_answer(client, png, model=name)
        assert page.locator(f"{card} .compare-answer strong").text_content() == str(expected["digit"])
        assert_bars_follow(page, expected["probabilities"], container=card)


def test_compare_asks_every_model_in_one_request_per_update_and_shows_them_all(open_page, client):
    models = [model["name"] for model in client.get("/api/models").get_json()]
    assert len(models) == 3
    page = open_page("/")
    responses = watch_predictions(page)
    page.get_by_role("checkbox", name="Compare all models").check()
    draw_with_mouse(page, SEVEN_IN_TWO_STROKES)
    wait_for_answer(page)
    assert responses and all(len(response.json()["models"]) == 3 for response in responses), \
        "while drawing, every request asks all models at once"

    responses.clear()
    page.keyboard.press("z")   # one update: the slanted stroke of the 7 is undone
    wait_for_answer(page)
    assert_one_request_asked_every_model(responses, models)

    responses.clear()
    draw_with_mouse(page, [SEVEN_IN_TWO_STROKES[1]])
    wait_for_answer(page)
    png = canvas_png(page)
    assert_compare_cards_follow(page, client, png, models)
    assert page.locator("#compare-grid .is-selected").get_attribute("data-model") == models[0]
    assert shown_digit(page) == str(server_answer(client, png, model=models[0])["digit"])

    responses.clear()
    page.locator("#model").select_option(models[-1])
    wait_for_answer(page)
    assert_one_request_asked_every_model(responses, models)
    assert page.locator("#compare-grid .is-selected").get_attribute("data-model") == models[-1]
    selected = server_answer(client, png, model=models[-1])
    assert shown_digit(page) == str(selected["digit"])
    assert_bars_follow(page, selected["probabilities"])
    assert page.locator("#model-input").get_attribute("src") == selected["input"]
    assert_compare_cards_follow(page, client, png, models)


def test_without_compare_one_request_asks_the_selected_model(open_page, client):
    models = [model["name"] for model in client.get("/api/models").get_json()]
    page = open_page("/")
    page.locator("#model").select_option(models[-1])
    draw_with_mouse(page, SEVEN)
    wait_for_answer(page)
    responses = watch_predictions(page)
    page.get_by_role("radio", name="Number").check()
    wait_for_answer(page)
    assert len(responses) == 1
    body = responses[0].json()
    assert body["model"] == models[-1] and "models" not in body
    assert page.locator("#compare-panel").is_hidden()


def test_answers_delayed_by_a_slow_network_never_replace_newer_ones(open_page):
    """Network latency is injected by holding real responses back; the answers themselves are the server's."""
    page = open_page("/")
    held, holding = [], [True]
    page.route("**/api/predict", lambda route: held.append(route) if holding[0] else route.continue_())
    slanted_stroke, top_bar = SEVEN_IN_TWO_STROKES[1], SEVEN_IN_TWO_STROKES[0]
    draw_with_mouse(page, [slanted_stroke])
    page.wait_for_timeout(300)
    assert held, "the drawing asked for predictions"

    holding[0] = False
    draw_with_mouse(page, [top_bar])
    wait_for_answer(page)
    assert shown_digit(page) == "7"

    late_digits = []
    for route in held:
        response = route.fetch()
        late_digits.append(response.json()["digit"])
        route.fulfill(response=response)
    page.wait_for_timeout(300)
    assert 7 not in late_digits, "the late answers are about the older drawing"
    assert shown_digit(page) == "7"
    assert page.locator("#result").get_attribute("aria-busy") == "false"


def test_other_features_hear_of_every_prediction_and_every_clear(open_page):
    page = open_page("/")
    page.evaluate("""() => {
        window.heard = [];
        document.addEventListener('digitdraw:prediction', ({detail}) => window.heard.push(
            {digit: detail.result.digit, model: detail.model, mode: detail.mode, type: detail.blob.type}));
        document.addEventListener('digitdraw:cleared', () => window.heard.push('cleared'));
    }""")
    draw_with_mouse(page, SEVEN)
    wait_for_answer(page)
    page.keyboard.press("c")
    heard = page.evaluate("window.heard")
    model = page.locator("#model").input_value()
    assert heard[-2] == {"digit": 7, "model": model, "mode": "digit", "type": "image/png"}
    assert heard[-1] == "cleared"


@pytest.mark.parametrize("role, name", [("checkbox", "Compare all models"), ("radio", "Number"), ("radio", "Digit")])
def test_shortcuts_work_after_a_toggle_was_clicked(open_page, role, name):
    page = open_page("/")
    draw_with_mouse(page, SEVEN_IN_TWO_STROKES)
    wait_for_answer(page)
    whole = ink_on_canvas(page)
    toggle = page.get_by_role(role, name=name)
    toggle.click()
    wait_for_answer(page)
    assert toggle.evaluate("toggle => toggle !== document.activeElement"), "focus went back to the page"

    page.keyboard.press("e")
    assert page.locator("#eraser").get_attribute("aria-pressed") == "true"
    page.keyboard.press("e")
    assert page.locator("#eraser").get_attribute("aria-pressed") == "false"
    page.keyboard.press("p")
    assert "presenter" in page.locator("body").get_attribute("class")
    expect(page.locator("#join-dialog")).to_be_visible()   # presenter mode starts with the join QR code
    page.keyboard.press("Escape")
    page.keyboard.press("p")
    assert "presenter" not in page.locator("body").get_attribute("class")
    page.keyboard.press("z")
    wait_for_answer(page)
    assert 0 < ink_on_canvas(page) < whole
    page.keyboard.press("c")
    assert ink_on_canvas(page) == 0
    assert shown_digit(page) == "?"


def test_keys_typed_into_a_text_field_are_no_shortcuts(open_page):
    page = open_page("/")
    draw_with_mouse(page, SEVEN)
    wait_for_answer(page)
    ink = ink_on_canvas(page)
    page.evaluate("""() => {
        const field = document.createElement('input');
        field.id = 'note';
        document.querySelector('#result').append(field);
    }""")
    page.locator("#note").press_sequentially("cez4p")
    page.locator("#note").press("Enter")
    assert page.locator("#note").input_value() == "cez4p"
    assert ink_on_canvas(page) == ink
    assert page.locator("#eraser").get_attribute("aria-pressed") == "false"
    assert "presenter" not in page.locator("body").get_attribute("class")
    assert page.locator("#feedback-status").text_content() == ""


def test_presenter_mode_toggles_with_the_button_and_the_p_key(open_page):
    page = open_page("/", viewport={"width": 1920, "height": 1080})
    page.keyboard.press("p")
    page.locator("#join-close").click()
    assert "presenter" in page.locator("body").get_attribute("class")
    assert page.locator("#presenter").get_attribute("aria-pressed") == "true"
    assert page.locator(".site-header").is_hidden()
    draw_with_mouse(page, SEVEN)
    wait_for_answer(page)
    assert shown_digit(page) == "7"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1920, "the huge layout still fits"
    page.locator("#presenter").click()
    assert "presenter" not in page.locator("body").get_attribute("class")
    assert page.locator(".site-header").is_visible()
