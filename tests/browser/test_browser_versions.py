"""The teacher turns a class's corrections into a new model version from the browser, watches the run, sees the
scores before and after, and rolls back: real Chromium, a real `flask finetune` process, the real mlp."""

from __future__ import annotations

import cv2
from playwright.sync_api import expect

from support import TEACHER_TOKEN
from webapp.store.drawings import NewDrawing

RUN_SECONDS = 180   # a bound for "the run ends", not a speed target (benchmarks/bench_finetune.py has those)


def sign_in(page):
    page.goto("/teacher")
    page.locator("#token").fill(TEACHER_TOKEN)
    with page.expect_navigation():
        page.locator("button[type=submit]").click()


def test_the_teacher_fine_tunes_watches_the_run_and_rolls_back(open_page, feedback_app, mnist, screenshot_dir):
    # Guards wide open: this test is about the page and the process, not about whether 48 drawings help.
    url, app = feedback_app(MODEL_RELOAD_SECONDS=0.0, FINETUNE_MAX_TEST_DROP=100.0, FINETUNE_MAX_DRAWINGS_DROP=100.0)
    app.extensions["store"].add(*[
        NewDrawing(image=cv2.imencode(".png", mnist.x_test[i])[1].tobytes(), pixels=mnist.x_test[i],
                   label=int(mnist.y_test[i])) for i in range(60)])
    teacher = open_page("/teacher", base_url=url)
    sign_in(teacher)
    teacher.set_viewport_size({"width": 1280, "height": 900})
    teacher.select_option("#versions-model", "mlp")
    rows = teacher.locator("#versions-body tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Served now")
    made = teacher.locator("#versions-body tr td:first-of-type")   # the "Made" column
    expect(made.first).to_have_text("shipped")
    expect(teacher.locator("#finetune-run")).to_be_hidden()   # no run yet: nothing to show, and no error

    teacher.locator("#finetune-button").click()
    expect(teacher.locator("#finetune-button")).to_be_disabled()
    expect(teacher.locator("#finetune-log")).to_contain_text("[1/5]", timeout=30_000)   # progress while it runs
    expect(teacher.locator("#finetune-state")).to_contain_text("Published", timeout=RUN_SECONDS * 1000)
    expect(teacher.locator("#finetune-result-body tr")).to_have_count(3)
    expect(teacher.locator("#finetune-log")).to_contain_text("[5/5] Publishing")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Served now")
    expect(rows.first.locator("th")).to_have_text("2")
    expect(rows.nth(1)).to_contain_text("MNIST training digits")
    expect(made.nth(1)).to_have_text("shipped")   # version 1 stays the shipped one once it is kept
    expect(made.first).not_to_have_text("shipped")   # the run's version says when it was made
    teacher.screenshot(path=str(screenshot_dir / "teacher-versions-1280.png"), full_page=True)

    teacher.get_by_role("button", name="Serve version 1").click()
    expect(teacher.locator("#versions-status")).to_have_text("Everyone is served mlp version 1 within seconds.")
    expect(rows.nth(1)).to_contain_text("Served now")
    student = open_page("/", base_url=url)
    served = student.evaluate("async () => (await (await fetch('/api/models')).json())"
                              ".find(m => m.name === 'mlp').version.number")
    assert served == 1
    teacher.set_viewport_size({"width": 360, "height": 740})
    wide = teacher.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(node => node.getBoundingClientRect().right > 361).map(node => node.tagName + '.' + node.className)""")
    assert teacher.evaluate("document.documentElement.scrollWidth") <= 360, wide[:6]
    teacher.screenshot(path=str(screenshot_dir / "teacher-versions-360.png"), full_page=True)
