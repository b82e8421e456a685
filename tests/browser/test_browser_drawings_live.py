"""/drawings during a lesson, in real Chromium against a real server: new drawings appear without a reload,
and the teacher's Delete can be undone, says so at the tile, and never moves the tile under the pointer.

Each test serves its own app on a fresh SQLite file; "another client" posts through the app's own test
client, as a phone's browser would through the network.
"""

from __future__ import annotations

import time

from playwright.sync_api import expect

from support import save_digits
from teacher_pages import sign_in

ARRIVES_WITHIN_MS = 6500      # the page asks every 4 s (give or take 15 %) while it is in view
UNDO_MS = 8000                # how long a deleted drawing can be taken back on /drawings
DESKTOP = {"viewport": {"width": 1280, "height": 720}}


def stored_ids(app) -> list[int]:
    return [drawing.id for drawing in app.extensions["store"].page(200)]


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def box(locator) -> tuple[float, float, float, float]:
    found = locator.bounding_box()
    assert found is not None
    return found["x"], found["y"], found["width"], found["height"]


def test_a_drawing_posted_elsewhere_appears_without_a_reload(open_page, feedback_app, mnist):
    url, app = feedback_app()
    page = open_page("/drawings", base_url=url, **DESKTOP)
    expect(page.locator("#drawings-total")).to_have_text("0 drawings")
    expect(page.locator("table.model-scores")).to_be_hidden()

    [first] = save_digits(app.test_client(), mnist, [0])   # a 7
    tile = page.locator(f".drawing[data-id='{first}']")
    expect(tile).to_be_visible(timeout=ARRIVES_WITHIN_MS)
    expect(tile).to_contain_text(f"#{first}: a 7")
    expect(page.locator("#drawings-total")).to_have_text("1 drawing")
    expect(page.locator(".label-filter [data-label='7'] .count")).to_have_text("1")
    expect(page.locator(".label-filter [data-label=''] .count")).to_have_text("1")
    expect(page.locator("table.model-scores")).to_be_visible()
    expect(page.locator(".model-accuracy").first).not_to_have_text("not yet")
    expect(page.locator("table.confusion")).to_be_visible()
    expect(page.locator("table.confusion tbody tr").nth(7).locator("td").nth(
        int(page.locator(".drawing-answer").first.text_content().split()[-1]))).to_have_text("1")

    [second] = save_digits(app.test_client(), mnist, [1])   # a 2: the newest comes first
    expect(page.locator(".drawing").first).to_have_attribute("data-id", str(second), timeout=ARRIVES_WITHIN_MS)
    expect(page.locator("#drawings-total")).to_have_text("2 drawings")


def test_new_drawings_wait_while_the_pointer_is_over_the_grid(open_page, feedback_app, mnist):
    url, app = feedback_app()
    save_digits(app.test_client(), mnist, range(8))
    page = open_page("/drawings", base_url=url, **DESKTOP)
    target = page.locator(".drawing").nth(3)
    target.scroll_into_view_if_needed()
    target.hover()
    before = box(target)
    [newest] = save_digits(app.test_client(), mnist, [8])
    expect(page.locator("#drawings-total")).to_have_text("9 drawings", timeout=ARRIVES_WITHIN_MS)   # counts at once
    page.wait_for_timeout(500)
    assert page.locator(f".drawing[data-id='{newest}']").count() == 0, "the new tile waits for the pointer"
    assert box(target) == before, "the tile under the pointer did not move"
    page.mouse.move(5, 5)
    expect(page.locator(".drawing").first).to_have_attribute("data-id", str(newest))


def test_delete_offers_undo_at_the_tile_and_undo_keeps_the_drawing(open_page, feedback_app, mnist):
    url, app = feedback_app()
    ids = save_digits(app.test_client(), mnist, range(6))
    page = open_page("/", base_url=url, **DESKTOP)
    sign_in(page)
    page.goto("/drawings")
    victim = ids[2]
    tile = page.locator(f".drawing[data-id='{victim}']")
    tile.get_by_role("button", name=f"Delete drawing #{victim}").click()

    undo = tile.get_by_role("button", name=f"Undo deleting drawing #{victim}")
    expect(undo).to_be_visible()
    expect(tile).to_contain_text("Deleted")
    status = page.locator("#moderate-status")
    expect(status).to_contain_text(f"Drawing #{victim} deleted")
    status_box = status.bounding_box()
    assert status_box and 0 <= status_box["y"] and status_box["y"] + status_box["height"] <= 720, \
        "the message is on the screen, where the teacher is looking"
    undo.click()
    expect(tile.get_by_role("button", name=f"Delete drawing #{victim}")).to_be_visible()
    expect(status).to_contain_text(f"Drawing #{victim} is kept")
    page.wait_for_timeout(UNDO_MS + 1500)
    assert victim in stored_ids(app), "the drawing taken back is still in the store"
    expect(tile).to_be_visible()


def test_a_deleted_tile_keeps_its_place_under_the_pointer_then_is_gone(open_page, feedback_app, mnist):
    url, app = feedback_app()
    ids = save_digits(app.test_client(), mnist, range(12))
    page = open_page("/", base_url=url, **DESKTOP)
    sign_in(page)
    page.goto("/drawings")
    victim, neighbour = ids[-3], ids[-4]   # the third tile and the one after it
    delete = page.get_by_role("button", name=f"Delete drawing #{victim}")
    delete.scroll_into_view_if_needed()
    tile, next_tile = page.locator(f".drawing[data-id='{victim}']"), page.locator(f".drawing[data-id='{neighbour}']")
    before = box(tile), box(next_tile)
    delete.click()   # the mouse stays where Delete was
    started = time.monotonic()
    while victim in stored_ids(app):
        assert (box(tile), box(next_tile)) == before, "nothing moved under the pointer during the undo time"
        assert time.monotonic() - started < UNDO_MS / 1000 + 3, "the drawing was deleted after the undo time"
        page.wait_for_timeout(250)
    assert time.monotonic() - started >= UNDO_MS / 1000 - 1, "not before the undo time"
    expect(page.locator("#moderate-status")).to_contain_text(f"Drawing #{victim} is deleted")
    assert (box(tile), box(next_tile)) == before, "still in place while the pointer is over the drawings"
    page.mouse.move(5, 5)
    expect(tile).to_have_count(0)
    assert stored_ids(app) == [i for i in ids[::-1] if i != victim]


def test_leaving_the_page_carries_out_a_waiting_delete(open_page, feedback_app, mnist):
    url, app = feedback_app()
    ids = save_digits(app.test_client(), mnist, range(3))
    page = open_page("/", base_url=url, **DESKTOP)
    sign_in(page)
    page.goto("/drawings")
    page.get_by_role("button", name=f"Delete drawing #{ids[0]}").click()
    page.goto("/")
    assert wait_until(lambda: ids[0] not in stored_ids(app), 3), "leaving performed the delete"
    assert stored_ids(app) == ids[:0:-1]
