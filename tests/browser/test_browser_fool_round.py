"""A "fool the model" round in real Chromium, as a lesson runs it: the teacher's wall on a projector and two
phones (390x844 and 360x740, touch). The teacher starts "Fool the model with a 1"; the phones draw; each sees at
once whether it fooled the model with the heat map of where it looked; the wall puts the fooling drawings first
with how sure the model was and counts who fooled it; a drawing marked unfair leaves the wall and the store;
one press teaches the model (a real fine-tuning process) while a phone keeps drawing; the replay shows the old
and the new readings with the kept-aside drawings apart; the teacher goes back to the old version and forward
again; a student's page can do none of it (403). Screenshots go to DIGITDRAW_SCREENSHOTS when set."""

from __future__ import annotations

import io
import os
import re
import time

import pytest
from playwright.sync_api import expect

from benchmarks.styled_digits import styled_digits
from pad_strokes import draw_with_finger
from support import TEACHER_TOKEN
from teacher_pages import PHONE, open_wall
from webapp.store.versions import ModelVersions

pytest.importorskip("tensorflow")   # teaching runs a real fine-tuning process

SMALL_PHONE = {**PHONE, "viewport": {"width": 360, "height": 740}}
SEVEN = [[(0.28, 0.2), (0.72, 0.2), (0.44, 0.84)]]   # sent as a "1": the model reads 7, and it is unfair


def outline_one(variant: int) -> list:
    """A 1 drawn as its outline, a tall narrow box, as children draw bubble letters (a little wider for each
    variant): the trick the class uses to fool the model."""
    half = 0.06 + 0.01 * variant
    return [[(0.5 - half, 0.1), (0.5 + half, 0.1), (0.5 + half, 0.9), (0.5 - half, 0.9), (0.5 - half, 0.1)]]


def run_is_idle_priority() -> bool:
    """Whether the fine-tuning process the server started runs in Linux's idle scheduling class at nice 19
    (nice runs the command, which sets the class for itself once the app is made: checked until it shows)."""
    from webapp.http import versions

    [(child, _)] = versions._children
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if os.sched_getscheduler(child.pid) == os.SCHED_IDLE and os.getpriority(os.PRIO_PROCESS, child.pid) == 19:
                return True
        except ProcessLookupError:
            return False
        time.sleep(0.02)
    return False


def seed_class(app, round_id: int, count: int = 30) -> None:
    """What the rest of the class sent before: 1s drawn as outlines from eight devices (their own addresses)."""
    devices = [app.test_client() for _ in range(8)]   # each keeps its own nickname cookie
    for index, drawing in enumerate(styled_digits("outline-1", count, seed=11)):
        sent = devices[index % 8].post(f"/api/rounds/{round_id}/drawings",
                           data={"image": (io.BytesIO(drawing.png), "drawing.png")},
                           content_type="multipart/form-data", environ_base={"REMOTE_ADDR": f"10.2.0.{index % 8}"})
        assert sent.status_code == 201, sent.get_json()


def test_a_class_fools_the_model_teaches_it_and_sees_it_tested_again(feedback_app, browser, browser_problems,
                                                                        screenshot_dir):
    url, app = feedback_app(TEACHER_TOKEN=TEACHER_TOKEN)
    projector, wall = open_wall(browser, url, browser_problems)
    phones = []
    for options in (PHONE, SMALL_PHONE):
        phone = browser.new_context(base_url=url, reduced_motion="reduce", **options).new_page()
        browser_problems.watch(phone)
        phone.goto("/")
        phones.append(phone)

    wall.locator("#wall-fool").check()
    wall.locator('[data-start-digit="1"]').click()
    expect(wall.locator("#wall-prompt")).to_have_text("Fool the model with a 1")
    for phone in phones:
        expect(phone.locator("#round-prompt")).to_have_text("Fool the model with a 1", timeout=5000)
        expect(phone.locator("#round-kicker")).to_have_text("Fool the model")
    round_id = app.test_client().get("/api/rounds/current").get_json()["id"]

    # A 7 sent as a 1 fools the model: the phone says so at once, with where the model looked.
    cheat = phones[0]
    draw_with_finger(cheat, SEVEN)
    cheat.locator("#round-send").click()
    expect(cheat.locator("#round-status")).to_contain_text("You fooled it! It read your 1 as a 7")
    expect(cheat.locator("#round-heat")).to_have_attribute("data-drawn", "true")
    expect(cheat.locator("#round-looked-digit")).to_have_text("7")
    cheat.screenshot(path=str(screenshot_dir / "fool-phone-390.png"))
    honest = phones[1]
    draw_with_finger(honest, outline_one(0))
    honest.locator("#round-send").click()
    expect(honest.locator("#round-status")).to_contain_text(re.compile("You fooled it!|not fooled this time"))
    expect(honest.locator("#round-looked")).to_be_visible()
    assert honest.evaluate("document.documentElement.scrollWidth") <= 360

    seed_class(app, round_id)
    expect(wall.locator("#wall-tiles .tile")).to_have_count(32, timeout=10000)
    tiles = wall.locator("#wall-tiles .tile")
    rights = tiles.evaluate_all("tiles => tiles.map(tile => tile.dataset.right)")
    fooled = rights.count("false")
    assert fooled >= 10 and rights == ["false"] * fooled + ["true"] * (32 - fooled)   # the fooling ones first
    expect(tiles.first.locator(".tile-label")).to_contain_text("sure")
    expect(wall.locator("#wall-fooled li")).not_to_have_count(0)
    expect(wall.locator("#wall-sent")).to_have_text("32")
    expect(wall.locator("#teach-message")).to_have_text("")   # 32 drawings: enough to teach
    scores = wall.locator("#wall-fooled .fooler-count").all_inner_texts()
    assert sum(int(text.split()[0]) for text in scores) == fooled
    for (width, height), name in (((1024, 768), "fool-wall-1024.png"), ((1280, 720), "fool-wall-1280.png")):
        wall.set_viewport_size({"width": width, "height": height})
        assert wall.evaluate("document.documentElement.scrollWidth") <= width
        wall.screenshot(path=str(screenshot_dir / name))

    # The 7 is not really a 1: marked unfair, it leaves the wall and the store.
    cheats = app.extensions["store"].read("SELECT id FROM drawings WHERE round_id = :r ORDER BY id LIMIT 1",
                                          {"r": round_id})[0][0]
    unfair = wall.locator(f'.tile[data-id="{cheats}"] .tile-hide')
    expect(unfair).to_have_attribute("aria-label", f"Unfair: drawing {cheats} is not really a 1")
    unfair.click()
    expect(tiles).to_have_count(31)
    assert app.extensions["store"].original(cheats) is None

    # A student cannot mark, teach, replay or roll back.
    student = phones[1].context.request
    assert student.post(f"{url}/api/rounds/{round_id}/teach", data={}).status == 403
    assert student.get(f"{url}/api/rounds/{round_id}/replay").status == 403
    assert student.delete(f"{url}/api/rounds/{round_id}/drawings/{cheats + 1}").status == 403
    assert student.post(f"{url}/api/models/mlp/versions/1/serve").status == 403

    # Teach (the quick dense model here; the benchmark teaches the CNN), the class drawing meanwhile.
    expect(wall.locator("#wall-teach")).to_be_visible()
    wall.locator("#teach-model").select_option("mlp")
    wall.locator("#teach-start").click()
    expect(wall.locator("#teach-message")).to_contain_text("the class can keep drawing", timeout=10000)
    assert run_is_idle_priority()   # the run takes a core only while no web worker wants it
    draw_with_finger(honest, outline_one(1))
    honest.locator("#round-send").click()
    expect(honest.locator("#round-status")).to_contain_text("sure", timeout=10000)
    expect(wall.locator("#teach-progress li").first).to_be_visible(timeout=30000)
    for (width, height), name in (((1024, 768), "fool-teaching-1024.png"), ((1280, 720), "fool-teaching-1280.png")):
        wall.set_viewport_size({"width": width, "height": height})
        wall.screenshot(path=str(screenshot_dir / name))
    expect(wall.locator("#teach-headline")).to_contain_text("Version 1 read", timeout=120000)
    expect(wall.locator("#teach-message")).to_contain_text("Version 2 of")

    # The replay: old and new readings on every tile, the kept-aside drawings apart, what it cost.
    versions = ModelVersions(app.extensions["store"]).of_model("mlp")
    assert [version.number for version in versions] == [2, 1] and versions[0].current
    held = {row[0] for row in app.extensions["store"].read(
        "SELECT id FROM drawings WHERE round_id = :r AND held_out", {"r": round_id})}
    assert held and not held & set(versions[0].trained_on["drawing_ids"])
    expect(wall.locator('#teach-groups tr[data-split="held_out"]')).to_be_visible()
    expect(wall.locator('#teach-groups tr[data-split="learnt"]')).to_be_visible()
    marked = wall.locator("#wall-tiles .tile-replay:visible")
    expect(marked).to_have_count(32)   # the 31 and the one sent while it learnt
    assert wall.locator('.tile[data-split="held_out"]').count() == len(held)
    expect(wall.locator("#teach-costs li").first).to_contain_text("MNIST test")
    for (width, height), name in (((1280, 720), "fool-replay-1280.png"), ((1024, 768), "fool-replay-1024.png")):
        wall.set_viewport_size({"width": width, "height": height})
        assert wall.evaluate("document.documentElement.scrollWidth") <= width
        wall.locator("#wall-teach").scroll_into_view_if_needed()
        wall.screenshot(path=str(screenshot_dir / name))

    # Back to version 1 from the wall, and forward again.
    wall.locator("#teach-serve").click()
    expect(wall.locator("#teach-message")).to_contain_text("Version 1 of")
    expect(wall.locator("#teach-serve")).to_have_text("Serve version 2 again")
    assert ModelVersions(app.extensions["store"]).current()["mlp"].number == 1
    wall.locator("#teach-serve").click()
    expect(wall.locator("#teach-serve")).to_have_text("Go back to version 1")
    assert ModelVersions(app.extensions["store"]).current()["mlp"].number == 2

    projector.close()
    for phone in phones:
        phone.context.close()
    assert browser_problems.unexpected() == []
