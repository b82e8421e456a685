"""The signed-in teacher's pages for the browser tests: signing in, and the class's wall on a projector."""

from __future__ import annotations

from support import TEACHER_TOKEN

PROJECTOR = {"viewport": {"width": 1280, "height": 720}, "reduced_motion": "reduce"}
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}


def sign_in(page):
    page.goto("/teacher")
    page.locator("#token").fill(TEACHER_TOKEN)
    with page.expect_navigation():
        page.locator("button[type=submit]").click()


def open_wall(browser, url: str, browser_problems, **options):
    """A projector's browser with the teacher signed in on /wall: (its context, the wall's page); `options`
    change the context's (a locale, another screen size)."""
    projector = browser.new_context(base_url=url, **{**PROJECTOR, **options})
    wall = projector.new_page()
    browser_problems.watch(wall)
    sign_in(wall)
    wall.goto("/wall")
    return projector, wall
