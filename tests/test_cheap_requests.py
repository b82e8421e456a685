"""Cheap requests stay cheap, and nothing a client sends gives a 500 (issue 11, items 5 and 6).

Each abusive request of benchmarks/bench_abuse.py (which times them against the real server)
gets its 4xx status and a short JSON sentence that repeats at most a short piece of the input.
"""

import io
import logging

import numpy as np
import pytest
from PIL import Image

from benchmarks import bench_abuse
from support import TEACHER_TOKEN, post_image
from webapp.http.echo import shortened
from webapp.vision import segment

TOKEN = TEACHER_TOKEN
LONGEST_ANSWER = 2048
MODELS = "use one of cnn, mlp-wide, mlp."
NOT_AN_IMAGE = "This is not an image we can read. Send a PNG, JPEG, WebP, GIF or BMP."


def sent(client, abuse: bench_abuse.Abuse):
    return client.open(abuse.path, method=abuse.method, data=abuse.body, headers=abuse.headers)


def many(character: str, count: int) -> str:
    return character * count


FORM_FIELD_TOO_LARGE = ("A form field is too large or the form has too many parts: a text field holds at most "
                        "128 KiB.")   # MAX_FORM_MEMORY_SIZE's default
# from the app's URL map
ENDPOINTS = ("/api/classroom, /api/drawings, /api/drawings/<drawing_id>, /api/drawings/<drawing_id>/original, "
             "/api/drawings/export.npz, /api/drawings/export.zip, "
             "/api/explain, /api/explain/<name>, /api/feedback, /api/feedback/undo, /api/finetune, "
             "/api/finetune/readiness, /api/health, /api/languages, "
             "/api/models, /api/models/<name>/versions, /api/models/<name>/versions/<version_id>/serve, "
             "/api/models/<name>/versions/diff, "
             "/api/predict, /api/reports/<name>, /api/rounds, /api/rounds/<round_id>, /api/rounds/<round_id>/drawings, "
             "/api/rounds/<round_id>/drawings/<drawing_id>, /api/rounds/<round_id>/end, /api/rounds/<round_id>/events, "
             "/api/rounds/<round_id>/export.npz, /api/rounds/<round_id>/export.zip, /api/rounds/<round_id>/pause, "
             "/api/rounds/<round_id>/replay, /api/rounds/<round_id>/resume, /api/rounds/<round_id>/teach and "
             "/api/rounds/current")

CASES = {
    "number mode, 12,065 tiny strokes": (
        lambda c, png: post_image(c, bench_abuse.many_strokes_png(), mode="number"), 400,
        f"Number mode reads at most {segment.MAX_STROKES} separate strokes and this drawing has 12,065: "
        "draw the digits with fewer, joined-up strokes."),
    **{name: (lambda c, png, abuse=abuse: sent(c, abuse), 415, NOT_AN_IMAGE)
       for name, abuse in bench_abuse.adversarial_multipart().items() if "headers" not in name},
    "form field `model` over the form memory limit": (
        lambda c, png: post_image(c, png, model=many("m", 400_000)), 413, FORM_FIELD_TOO_LARGE),
    "form field `model` of 100 kB": (
        lambda c, png: post_image(c, png, model=many("m", 100_000)), 400,
        f"Unknown model {shortened(many('m', 41))}: {MODELS}"),
    "`?model=` of 400 kB": (
        lambda c, png: post_image(c, png, query="?model=" + many("m", 400_000)), 400,
        f"Unknown model {shortened(many('m', 41))}: {MODELS}"),
    "form field `mode` of 100 kB": (
        lambda c, png: post_image(c, png, mode=many("n", 100_000)), 400,
        f"Unknown mode {shortened(many('n', 41))}: use one of digit, number."),
    "`?label=` of 100 kB": (
        lambda c, png: c.get("/api/drawings?label=" + many("7", 100_000)), 400,
        f"`label` must be one digit from 0 to 9, not {shortened(many('7', 41))}."),
    "`?offset=2**63`": (
        lambda c, png: c.get("/api/drawings?offset=9223372036854775808"), 400,
        "`offset` must be a whole number from 0 to 999,999,999, not '9223372036854775808'."),
    "`?limit=` of 4,300 digits": (
        lambda c, png: c.get("/api/drawings?limit=" + many("9", 4300)), 400,
        f"`limit` must be a whole number from 1 to 200, not {shortened(many('9', 41))}."),
    "`?page=2**64` on /drawings": (
        lambda c, png: c.get("/drawings?page=18446744073709551616"), 400,
        "`page` must be a whole number from 1 to 999,999,999, not '18446744073709551616'."),
    "`?page=` of 4,300 digits on /drawings": (
        lambda c, png: c.get("/drawings?page=" + many("9", 4300)), 400,
        f"`page` must be a whole number from 1 to 999,999,999, not {shortened(many('9', 41))}."),
    "unknown API path of 4 kB": (
        lambda c, png: c.get("/api/" + many("x", 4000)), 404,
        f"There is no API endpoint at {shortened('/api/' + many('x', 4000), quote=str)}; the API has {ENDPOINTS}."),
    "PUT on a path of 4 kB": (
        lambda c, png: c.put("/api/reports/" + many("x", 4000)), 405,
        f"{shortened('/api/reports/' + many('x', 4000), quote=str)} does not accept PUT; use GET."),
}


@pytest.mark.parametrize("send, status, error", CASES.values(), ids=CASES.keys())
def test_abusive_request_gets_a_short_sentence(client, seven, send, status, error):
    response = send(client, seven)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert len(response.get_data()) <= LONGEST_ANSWER
    assert response.get_json() == {"error": error}


@pytest.mark.parametrize("drawing_id", [str(2**63), many("9", 23), many("9", 4300), many("9", 5000)])
def test_a_drawing_id_too_large_for_sqlite_is_no_drawing(client, drawing_id):
    path = "/api/drawings/" + drawing_id
    response = client.delete(path, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404
    assert response.get_json() == {"error": f"There is no API endpoint at {shortened(path, quote=str)}; the API has "
                                            f"{ENDPOINTS}."}


def test_the_largest_drawing_id_sqlite_holds_is_looked_up(client):
    response = client.delete(f"/api/drawings/{2**63 - 1}", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404
    assert response.get_json() == {"error": f"There is no drawing #{2**63 - 1}."}


def test_the_largest_page_offset_and_count_are_answered(client):
    assert client.get("/api/drawings?offset=999999999&limit=200").get_json()["items"] == []
    assert client.get("/drawings?page=999999999").status_code == 200


def test_log_lines_stay_short_whatever_the_client_sends(client, seven, caplog):
    with caplog.at_level(logging.INFO, logger="digitdraw"):
        post_image(client, seven, query="?model=" + many("m", 400_000))
        client.get("/api/" + many("x", 4000))
    lines = [record.getMessage() for record in caplog.records if record.name == "digitdraw"]
    assert len(lines) == 4 and max(map(len, lines)) <= 600


def test_an_upload_far_larger_than_the_form_memory_limit_is_still_read(app, client):
    """The form memory limit is for text fields; Werkzeug counts its 64 KiB read buffer against it too."""
    noise = np.random.default_rng(0).integers(0, 256, (700, 700, 3), np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format="PNG")
    assert len(buffer.getvalue()) > 4 * app.config["MAX_FORM_MEMORY_SIZE"]
    assert post_image(client, buffer.getvalue()).status_code == 200
