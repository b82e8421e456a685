"""Digits as polylines in fractions of the canvas side, drawn with a real mouse or real touch input."""

from __future__ import annotations

import base64

ONE = [[(0.52, 0.16), (0.49, 0.84)]]
ONE_UPWARDS = [[(0.49, 0.84), (0.52, 0.16)]]   # a finger moving up would scroll the page if it could
SEVEN = [[(0.28, 0.2), (0.72, 0.2), (0.44, 0.84)]]
SEVEN_IN_TWO_STROKES = [[(0.28, 0.2), (0.72, 0.2)], [(0.72, 0.2), (0.44, 0.84)]]


def seven(variant: int) -> list:
    """A 7 whose stem ends a little further right for each variant: the store keeps each drawing once, so
    tests that save several 7s draw different ones."""
    return [[(0.28, 0.2), (0.72, 0.2), (0.40 + 0.01 * variant, 0.84)]]


SEVENTEEN = [[(0.26, 0.3), (0.24, 0.72)], [(0.5, 0.3), (0.8, 0.3), (0.62, 0.72)]]

STEPS_PER_SEGMENT = 12


def pad_box(page):
    return page.locator("#pad").bounding_box()


def to_page(box, point):
    return box["x"] + point[0] * box["width"], box["y"] + point[1] * box["height"]


def interpolate(start, end, steps):
    return [(start[0] + (end[0] - start[0]) * i / steps, start[1] + (end[1] - start[1]) * i / steps)
            for i in range(1, steps + 1)]


def draw_with_mouse(page, strokes):
    """Press, move through every point of each polyline, release: real mouse events."""
    box = pad_box(page)
    for polyline in strokes:
        page.mouse.move(*to_page(box, polyline[0]))
        page.mouse.down()
        for point in polyline[1:]:
            page.mouse.move(*to_page(box, point), steps=STEPS_PER_SEGMENT)
        page.mouse.up()


def draw_with_finger(page, strokes):
    """The same with touch input through the DevTools protocol: Chromium turns it into pointer events."""
    box = pad_box(page)
    session = page.context.new_cdp_session(page)
    for polyline in strokes:
        start = to_page(box, polyline[0])
        session.send("Input.dispatchTouchEvent",
                     {"type": "touchStart", "touchPoints": [{"x": start[0], "y": start[1]}]})
        for begin, end in zip(polyline, polyline[1:]):
            for point in interpolate(begin, end, STEPS_PER_SEGMENT):
                x, y = to_page(box, point)
                session.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
                page.wait_for_timeout(8)
        session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    session.detach()


def wait_for_answer(page):
    """Until the newest request's answer is on screen."""
    page.wait_for_selector("#result[aria-busy='false']", state="attached")


def canvas_png(page) -> bytes:
    """The canvas exactly as the page sends it: a PNG with a transparent background."""
    data_url = page.eval_on_selector("#pad", "canvas => canvas.toDataURL('image/png')")
    return base64.b64decode(data_url.split(",", 1)[1])


def bar_fractions(page, container="#bars") -> list[float]:
    """Each bar's filled width as a fraction of its track, digit 0 to 9."""
    return page.eval_on_selector_all(f"{container} .bar", """bars => bars.map(bar => {
        const track = bar.querySelector('.bar-track').getBoundingClientRect().width;
        return bar.querySelector('.bar-fill').getBoundingClientRect().width / track;
    })""")
