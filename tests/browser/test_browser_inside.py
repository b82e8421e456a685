"""Look inside, in real Chromium: draw a 7, open the panel, see the steps, the heat map, the layers and the
nearest training digits; a bar of the chart asks "why not that digit?"; screenshots at three sizes."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from pad_strokes import SEVEN, SEVEN_IN_TWO_STROKES, draw_with_finger, draw_with_mouse, wait_for_answer
from webapp import PROJECT_ROOT

SCREENS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True},
    "presenter": {"viewport": {"width": 1280, "height": 720}},
}


def heat(page) -> list[int]:
    """The heat map's pixels (RGBA), to see it change."""
    return page.eval_on_selector("[data-part='heat']", """canvas => Array.from(
        canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data)""")


def wait_for_explanation(page, target: int):
    expect(page.locator(".inside-target[aria-pressed='true']")).to_have_text(str(target))
    expect(page.locator("#inside")).to_have_attribute("aria-busy", "false")
    expect(page.locator("[data-part='heat']")).to_have_attribute("data-drawn", "true")   # its input image loaded


@pytest.mark.parametrize("screen", SCREENS)
def test_look_inside_shows_every_part_and_explains_another_digit(open_page, screenshot_dir, screen):
    page = open_page("/", **SCREENS[screen])
    if screen == "presenter":
        page.keyboard.press("p")
        page.keyboard.press("Escape")
    (draw_with_finger if screen == "phone" else draw_with_mouse)(page, SEVEN)
    wait_for_answer(page)
    page.locator("#look-inside").click()
    wait_for_explanation(page, 7)
    expect(page.locator("[data-part='title']")).to_have_text("Inside the convolutional network: why 7?")
    stages = page.locator(".inside-stage img")
    assert stages.count() >= 4
    assert all(stages.nth(i).get_attribute("alt") for i in range(stages.count())), "every image has a text"
    layers = page.locator(".inside-layer")
    expected = page.context.request.get("/api/explain/cnn").json()["layers"]
    assert layers.count() == len(expected)
    assert [layers.nth(i).locator("strong").text_content() for i in range(layers.count())] == \
        [f"{i + 1}. {layer['plain']}" for i, layer in enumerate(expected)]
    assert [layers.nth(i).locator(".technical").text_content().split(" · ")[0] for i in range(layers.count())] == \
        [layer["name"] for layer in expected]
    expect(page.locator(".inside-neighbour")).to_have_count(8)
    assert page.locator(".inside-neighbour.is-other").count() <= 1
    expect(page.locator(".inside-filters img")).to_have_count(1)
    own = heat(page)
    assert any(own[3::4]), "the heat map is drawn"
    page.screenshot(path=screenshot_dir / f"inside-{screen}.png", full_page=screen != "presenter")
    if screen == "presenter":
        page.locator(".inside-target[data-digit='1']").click()
    else:
        page.locator("#bars .bar[data-digit='1']").click()
    wait_for_explanation(page, 1)
    expect(page.locator("[data-part='title']")).to_have_text("Inside the convolutional network: why not 1?")
    assert heat(page) != own, "the heat map shows what speaks for 1 now"
    assert page.locator("[data-part='heat']").get_attribute("aria-label").startswith("Heat map over the 28 by 28")
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREENS[screen]["viewport"]["width"]


def test_look_inside_follows_the_drawing_after_each_stroke_not_during_it(open_page):
    page = open_page("/")
    asked, predicted = [], []
    page.on("request", lambda request: asked.append(request.url) if request.url.endswith("/api/explain") else None)
    page.on("request", lambda request: predicted.append(request.url) if request.url.endswith("/api/predict") else None)
    page.keyboard.press("l")
    expect(page.locator("#inside")).to_be_visible()
    expect(page.locator("[data-part='status']")).to_have_text("Draw a digit to see inside the model.")
    for stroke in SEVEN_IN_TWO_STROKES:
        draw_with_mouse(page, [stroke])
        wait_for_answer(page)
        page.wait_for_timeout(300)
    wait_for_explanation(page, 7)
    assert len(predicted) > 2, "the page asked for predictions while drawing too"
    assert len(asked) == 2, "one question after each of the two strokes, none while they were drawn"
    page.keyboard.press("c")
    expect(page.locator("[data-part='status']")).to_have_text("Draw a digit to see inside the model.")
    expect(page.locator(".inside-neighbour")).to_have_count(0)
    page.keyboard.press("l")
    expect(page.locator("#inside")).to_be_hidden()


def test_the_evaluation_page_shows_filters_and_where_a_wrong_answer_looked(open_page, screenshot_dir):
    page = open_page("/evaluation", viewport={"width": 1400, "height": 900})
    page.wait_for_selector("#evaluation[data-ready='true']")
    filters = page.locator("[data-topic='filters'] .model-card[data-model='cnn'] .filters img")
    first = json.loads((PROJECT_ROOT / "model" / "cnn.explain.json").read_text())["first_convolution"]["layer"]
    expect(filters).to_have_attribute("alt", f"The 32 filters of {first}: light where a filter wants ink, "
                                             "dark where it wants none")
    expect(page.locator("[data-topic='filters'] .model-card[data-model='mlp']")).to_contain_text("No stroke patterns")
    card = page.locator("[data-topic='wrong'] .model-card[data-model='cnn']")
    first = card.locator(".why-button").first
    label = first.get_attribute("aria-label")
    first.click()
    expect(card.locator(".why-pair canvas[data-drawn='true']")).to_have_count(2)
    captions = card.locator(".why-pair figcaption").all_text_contents()
    true_digit, said = label.split("a test ")[1].split(" it read as ")
    assert captions == [f"Where it looked for {true_digit}, the true digit",
                        f"Where it looked for {said}, what it said"]
    maps = card.locator(".why-pair canvas").evaluate_all("canvases => canvases.map(c => c.toDataURL())")
    assert maps[0] != maps[1], "the model looked at different ink for the two digits"
    card.screenshot(path=screenshot_dir / "evaluation-why-wrong.png")
