"""Both pages fit every screen from a 360-pixel phone to a 1920-pixel projector; screenshots for the README.

The screenshots go to a temporary folder, or to the folder named by DIGITDRAW_SCREENSHOTS
(`DIGITDRAW_SCREENSHOTS=docs pytest tests/browser/test_browser_layout.py` refreshes docs/).
"""

from __future__ import annotations

import pytest

from pad_strokes import SEVEN, draw_with_finger, draw_with_mouse, wait_for_answer

VIEWPORTS = {
    "phone": {"viewport": {"width": 360, "height": 740}, "has_touch": True, "is_mobile": True},
    "tablet": {"viewport": {"width": 768, "height": 1024}, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "projector": {"viewport": {"width": 1920, "height": 1080}},
}


@pytest.mark.parametrize("screen", VIEWPORTS)
@pytest.mark.parametrize("path", ["/", "/evaluation"])
def test_the_page_fits_the_screen_without_sideways_scrolling(open_page, path, screen):
    page = open_page(path, **VIEWPORTS[screen])
    if path == "/evaluation":
        page.wait_for_selector("#evaluation[data-ready='true']")
    else:
        pad = page.locator("#pad").bounding_box()
        assert pad["y"] + pad["height"] <= VIEWPORTS[screen]["viewport"]["height"], "the whole pad is in view"
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[screen]["viewport"]["width"]


def test_screenshots_of_drawing_evaluation_and_presenter_mode(open_page, screenshot_dir, feedback_app):
    desktop = open_page("/", **VIEWPORTS["desktop"])
    draw_with_mouse(desktop, SEVEN)
    wait_for_answer(desktop)
    desktop.screenshot(path=screenshot_dir / "screenshot-desktop.png")

    phone = open_page("/", **VIEWPORTS["phone"])
    draw_with_finger(phone, SEVEN)
    wait_for_answer(phone)
    phone.screenshot(path=screenshot_dir / "screenshot-phone.png")

    evaluation = open_page("/evaluation", viewport={"width": 1600, "height": 1560})
    evaluation.wait_for_selector("#evaluation[data-ready='true']")
    matrix = evaluation.locator("[data-topic='confusion'] .model-card").first
    matrix.locator(".cell[data-true='4'][data-predicted='9']").click()
    evaluation.screenshot(path=screenshot_dir / "screenshot-evaluation.png")

    presenter = open_page("/", **VIEWPORTS["projector"])
    presenter.keyboard.press("p")
    presenter.keyboard.press("Escape")   # closes the join QR code that presenter mode opens with
    draw_with_mouse(presenter, SEVEN)
    wait_for_answer(presenter)
    presenter.screenshot(path=screenshot_dir / "screenshot-presenter.png")

    small = open_page("/", viewport={"width": 1024, "height": 768}, color_scheme="light")
    small.keyboard.press("p")
    small.keyboard.press("Escape")
    draw_with_mouse(small, SEVEN)
    wait_for_answer(small)
    small.screenshot(path=screenshot_dir / "screenshot-presenter-1024.png")

    url, _app = feedback_app(PUBLIC_URL="http://192.168.1.20:8000/")   # as a classroom's address would read
    join = open_page("/", base_url=url, viewport={"width": 1280, "height": 720})
    join.keyboard.press("p")
    join.wait_for_function("() => document.querySelector('#join-qr').naturalWidth > 0")
    join.screenshot(path=screenshot_dir / "screenshot-presenter-join.png")

    for name in ("desktop", "phone", "evaluation", "presenter", "presenter-1024", "presenter-join"):
        assert (screenshot_dir / f"screenshot-{name}.png").stat().st_size > 10_000
