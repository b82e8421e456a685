"""The teacher's "Compare two versions" on /drawings and /evaluation, in real Chromium against a real server: mlp's
version 2 is another network (mlp-wide's), so some of the class's drawings (MNIST test digits here) go from right to
wrong and others from wrong to right. The page shows exactly the drawings and the per-digit counts
GET /api/models/mlp/versions/diff lists, asks again while drawings are left to read, fits a phone, a 1024x768 screen
and a 1280x720 projector, and shows a student nothing of it.
"""

from __future__ import annotations

import re

import cv2
import pytest
from playwright.sync_api import expect

from live_server import serve
from support import make_app
from support.versions import publish_network_as
from teacher_pages import sign_in
from test_browser_plain_words import VISIBLE_UNITS, jargon_pattern, only_jargon
from webapp.store.drawings import NewDrawing

DRAWINGS = 600   # more than one request reads (500 per version): the panel has to ask again
SCREENS = {"1024": (1024, 768), "projector": (1280, 720), "phone": (390, 844)}
DONE_MS = 20_000

# Every text the panel's status line shows, in order (a "Reading…" line lasts a fraction of a second).
RECORD_STATUS = """
window.statusesSeen = [];
new MutationObserver(() => {
  const line = document.getElementById("vd-status");
  if (line && line.textContent !== window.statusesSeen.at(-1)) window.statusesSeen.push(line.textContent);
}).observe(document, { subtree: true, childList: true, characterData: true });
"""


@pytest.fixture(scope="module")
def class_app(tmp_path_factory, mnist):
    """A live app with DRAWINGS labelled drawings and mlp version 2 (mlp-wide's network) served; (URL, version 2)."""
    app = make_app(tmp_path_factory.mktemp("version-diff") / "drawings.sqlite")
    store = app.extensions["store"]
    store.add(*[NewDrawing(image=cv2.imencode(".png", mnist.x_test[i])[1].tobytes(), pixels=mnist.x_test[i],
                           label=int(mnist.y_test[i])) for i in range(DRAWINGS)])
    version = publish_network_as(store, "mlp", "mlp-wide")
    url, stop = serve(app)
    yield url, version
    stop()


def api_diff(page, old: int, new: int) -> dict:
    """The diff as the API answers the signed-in page (every drawing read by now)."""
    return page.evaluate("async (url) => (await fetch(url)).json()",
                         f"/api/models/mlp/versions/diff?from={old}&to={new}")


def shown_changes(page, direction: str) -> list[dict]:
    return page.evaluate("""(direction) => [...document.querySelectorAll(
        `#version-diff [data-direction='${direction}'] .vd-thumb`)].map((item) => ({
          id: Number(item.dataset.id), caption: item.querySelector(".vd-caption").textContent,
          input: item.querySelector("img").getAttribute("src"),
          pixelated: getComputedStyle(item.querySelector("img")).imageRendering }))""", direction)


def shown_digits(page) -> list[list[str]]:
    return page.evaluate("""() => [...document.querySelectorAll('#vd-digits tbody tr, #vd-digits tfoot tr')]
        .map((row) => [...row.children].map((cell) => cell.textContent))""")


def assert_shows(page, diff):
    """The panel shows exactly the API's changed drawings, its per-digit counts and its sentence."""
    assert diff["complete"] and diff["left"] == 0
    for direction in ("right_to_wrong", "wrong_to_right"):
        listed = diff[direction]
        shown = shown_changes(page, direction)
        assert [item["id"] for item in shown] == [item["id"] for item in listed]
        assert [item["caption"] for item in shown] == [f"{i['label']}: {i['old']} → {i['new']}" for i in listed]
        assert [item["input"] for item in shown] == [item["input"] for item in listed]
        assert {item["pixelated"] for item in shown} <= {"pixelated"}
        assert len(listed) == diff["totals"][direction]   # fewer than listed_at_most: all of them are listed
    columns = ("read", "old_right", "new_right", "wrong_to_right", "right_to_wrong")
    expected = [[str(row["digit"])] + [f"{row[key]:,}" for key in columns] for row in diff["per_digit"]]
    expected.append(["All"] + [f"{diff['totals'][key]:,}" for key in columns])
    assert shown_digits(page) == expected
    totals, old, new = diff["totals"], diff["from"]["number"], diff["to"]["number"]
    expect(page.locator("#vd-summary")).to_have_text(
        f"Version {new} reads {totals['new_right']} of {totals['read']} drawings right, version {old} read "
        f"{totals['old_right']}: {totals['wrong_to_right']} went from wrong to right, {totals['right_to_wrong']} "
        "from right to wrong.")


def assert_plain_panel(page):
    """The panel's words pass the plain-words rule (tests/browser/test_browser_plain_words.py)."""
    in_panel = VISIBLE_UNITS.replace("document.body", "document.getElementById('version-diff')") \
        .replace('querySelectorAll("select")', 'querySelectorAll("#version-diff select")')
    texts = page.evaluate(in_panel)
    assert texts and not only_jargon(texts, jargon_pattern()), only_jargon(texts, jargon_pattern())


def assert_fits(page, name: str, screenshot_dir):
    """Nothing wider than the screen at each size; a screenshot of the panel at each."""
    for screen, (width, height) in SCREENS.items():
        page.set_viewport_size({"width": width, "height": height})
        wide = page.evaluate("""(width) => [...document.querySelectorAll('body *')]
            .filter((node) => node.getBoundingClientRect().right > width + 1)
            .map((node) => node.tagName + '.' + node.className)""", width)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (screen, wide[:6])
        panel = page.locator("#version-diff")
        assert panel.bounding_box()["width"] <= width
        page.evaluate("document.getElementById('version-diff').scrollIntoView()")
        page.screenshot(path=screenshot_dir / f"version-diff-{name}-{screen}.png")
        panel.screenshot(path=screenshot_dir / f"version-diff-{name}-{screen}-panel.png")


def test_the_teacher_sees_which_drawings_changed_on_both_pages(open_page, class_app, screenshot_dir,
                                                               browser_problems):
    url, version = class_app
    page = open_page("/teacher", base_url=url, viewport={"width": 1280, "height": 720})
    sign_in(page)
    page.add_init_script(RECORD_STATUS)
    page.goto("/drawings")
    panel = page.locator("#version-diff")
    expect(panel).to_have_attribute("data-state", "done", timeout=DONE_MS)
    assert any(re.fullmatch(r"Reading… \d+ drawings left", text) for text in page.evaluate("window.statusesSeen"))
    # the defaults: the first model with two versions, the served one against the one it was made from
    expect(page.locator("#vd-model")).to_have_value("mlp")
    expect(page.locator("#vd-from")).to_have_value(str(version.parent_id))
    expect(page.locator("#vd-to")).to_have_value(str(version.id))
    diff = api_diff(page, version.parent_id, version.id)
    assert diff["right_to_wrong"] and diff["wrong_to_right"], "mlp-wide reads some drawings differently"
    assert diff["totals"]["read"] == DRAWINGS
    assert_shows(page, diff)
    assert_plain_panel(page)
    assert_fits(page, "drawings", screenshot_dir)

    # on /evaluation the first answer is a 503: the panel says so, asks again a little later, and gets there
    browser_problems.expect("503")
    refused = []

    def refuse_once(route):
        if refused:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.fulfill(status=503, json={"error": "The drawings store cannot be read right now."})

    page.route(lambda address: "/versions/diff" in address, refuse_once)
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto("/evaluation")
    expect(panel).to_have_attribute("data-state", "done", timeout=DONE_MS)
    assert refused and "The drawings store cannot be read right now. Trying again…" in page.evaluate(
        "window.statusesSeen")
    assert_shows(page, diff)
    page.wait_for_selector("#evaluation[data-ready='true']")
    assert_fits(page, "evaluation", screenshot_dir)

    # the other way round, the two lists swap
    page.set_viewport_size({"width": 1280, "height": 720})
    page.select_option("#vd-from", str(version.id))
    page.select_option("#vd-to", str(version.parent_id))
    expect(panel).to_have_attribute("data-to", str(version.parent_id))
    expect(panel).to_have_attribute("data-state", "done")
    assert [item["id"] for item in shown_changes(page, "wrong_to_right")] == [
        item["id"] for item in diff["right_to_wrong"]]
    page.select_option("#vd-from", str(version.parent_id))
    expect(page.locator("#vd-status")).to_have_text("Choose two different versions to compare.")
    expect(page.locator("#vd-result")).to_be_hidden()

    # a model with one version says how to get a second one
    page.select_option("#vd-model", "cnn")
    expect(page.locator("#vd-status")).to_contain_text(
        "has only one version so far. Fine-tune or teach the model to get a second version to compare.")
    expect(page.locator("#vd-result")).to_be_hidden()
    expect(page.locator("#vd-from")).to_be_hidden()
    assert_plain_panel(page)
    page.locator("#version-diff").screenshot(path=screenshot_dir / "version-diff-one-version.png")


@pytest.mark.parametrize("path", ["/drawings", "/evaluation"])
def test_a_student_sees_no_comparison(open_page, class_app, path):
    url, _ = class_app
    page = open_page("about:blank", base_url=url)
    asked = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(path)
    if path == "/evaluation":
        page.wait_for_selector("#evaluation[data-ready='true']")
    else:
        page.wait_for_load_state("networkidle")
    expect(page.locator("#version-diff")).to_have_count(0)
    assert not [address for address in asked if "version-diff" in address or "/versions" in address]
    assert page.get_by_text("Compare two versions").count() == 0
