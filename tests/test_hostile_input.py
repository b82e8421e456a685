"""Everything a stranger might send to the API gets a clear answer, and the server keeps working.

Bad input: a 4xx status with JSON `{"error": <a sentence>}`, then a normal drawing is still read.
Odd but valid images: 200 with the right digit (or "nothing drawn" where nothing is).
"""

import io
import time

import pytest

from support import TEACHER_TOKEN, canvas_png, post_image
from support import hostile_images as images

SEVEN, TWO = 0, 1   # indices of a 7 and a 2 in the MNIST test set
MB = 1024 * 1024


@pytest.fixture(scope="module")
def digits(mnist):
    return {"seven": mnist.x_test[SEVEN], "two": mnist.x_test[TWO]}


def raw(client, data: bytes, content_type: str | None):
    return client.post("/api/predict", data=data, content_type=content_type)


def assert_error_sentence(response, status: int, *words: str):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    message = response.get_json()["error"]
    assert isinstance(message, str) and len(message.split()) >= 4 and message.rstrip().endswith(".")
    assert "Traceback" not in message and "File \"" not in message
    for word in words:
        assert word in message


def assert_still_reads_a_seven(client, digits):
    response = post_image(client, canvas_png(digits["seven"]))
    assert response.status_code == 200
    assert response.get_json()["digit"] == 7


BAD_REQUESTS = {
    "no body at all": (lambda c, d: c.post("/api/predict"), 400, ()),
    "form without an image field": (
        lambda c, d: c.post("/api/predict", data={"picture": (io.BytesIO(b"x"), "x.png")},
                            content_type="multipart/form-data"), 400, ("image",)),
    "image sent as a text field": (
        lambda c, d: c.post("/api/predict", data={"image": "iVBORw0KGgo="}, content_type="multipart/form-data"),
        400, ("image",)),
    "empty file": (lambda c, d: post_image(c, b""), 400, ("empty",)),
    "empty raw body": (lambda c, d: raw(c, b"", "image/png"), 400, ("empty",)),
    "text file posing as png": (lambda c, d: post_image(c, b"just some text, not a picture\n"), 415, ("PNG",)),
    "random bytes": (lambda c, d: post_image(c, bytes(range(256)) * 8), 415, ("PNG",)),
    "png signature only": (lambda c, d: post_image(c, images.PNG_SIGNATURE), 415, ()),
    "svg posing as png": (lambda c, d: post_image(c, images.SVG), 415, ()),
    "svg raw body": (lambda c, d: raw(c, images.SVG, "image/svg+xml"), 415, ()),
    "html posing as png": (lambda c, d: post_image(c, images.HTML, filename="x.png"), 415, ()),
    "tiff is not an accepted format": (
        lambda c, d: post_image(c, images.encoded(images.black_on_white(d["seven"]), "TIFF")), 415, ()),
    "truncated png": (lambda c, d: post_image(c, images.truncated(canvas_png(d["seven"]))), 400, ()),
    "truncated jpeg": (lambda c, d: post_image(c, images.truncated(images.progressive_jpeg(d["seven"]))), 400, ()),
    "png with damaged pixel data": (
        lambda c, d: post_image(c, images.with_flipped_idat(canvas_png(d["seven"]))), 400, ()),
    "pixel bomb png 30000x30000": (lambda c, d: post_image(c, images.pixel_bomb_png()), 413, ()),
    "gif with a 65535x65535 screen": (lambda c, d: post_image(c, images.gif_with_huge_screen()), 413, ()),
    "jpeg claiming 65500x65500": (lambda c, d: post_image(c, images.jpeg_with_huge_frame()), 413, ()),
    "png over the pixel limit 8000x8000": (lambda c, d: post_image(c, images.plain_png(8000, 8000)), 413, ("limit",)),
    "raw body over 8 MiB": (lambda c, d: raw(c, b"\0" * (8 * MB + 1), "image/png"), 413, ("the limit is 8 MiB.",)),
    "form over 8 MiB": (lambda c, d: post_image(c, b"\0" * (9 * MB)), 413, ("the limit is 8 MiB.",)),
    "json body": (lambda c, d: c.post("/api/predict", json={"image": "7"}), 415, ("multipart",)),
    "plain text body": (lambda c, d: raw(c, b"7", "text/plain"), 415, ("multipart",)),
    "url-encoded form": (
        lambda c, d: c.post("/api/predict", data="image=7", content_type="application/x-www-form-urlencoded"),
        415, ("multipart",)),
    "unknown model": (lambda c, d: post_image(c, canvas_png(d["seven"]), model="resnet"), 400, ("cnn",)),
    "model name as a path": (
        lambda c, d: post_image(c, canvas_png(d["seven"]), query="?model=../../etc/passwd"), 400, ("cnn",)),
    "unknown mode": (
        lambda c, d: post_image(c, canvas_png(d["seven"]), mode="letters"), 400, ("digit", "number")),
    "GET on predict": (lambda c, d: c.get("/api/predict"), 405, ("POST",)),
    "PUT on predict": (lambda c, d: c.put("/api/predict", data=b"x"), 405, ("POST",)),
    "DELETE on models": (lambda c, d: c.delete("/api/models"), 405, ("GET",)),
    "unknown API endpoint": (lambda c, d: c.get("/api/predictions"), 404, ("/api/predict",)),
    "report name as a path": (lambda c, d: c.get("/api/reports/..%2F..%2Fetc%2Fpasswd"), 404, ()),
}


@pytest.mark.parametrize("send, status, words", BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_bad_request_gets_a_sentence_and_the_server_keeps_working(client, digits, send, status, words):
    assert_error_sentence(send(client, digits), status, *words)
    assert_still_reads_a_seven(client, digits)


TEACHER = {"Authorization": f"Bearer {TEACHER_TOKEN}"}
HOSTILE_JSON = {   # bodies sent with the teacher's token to every endpoint that reads JSON
    "10,000 brackets": ("[" * 10_000, 400, ("too deeply", "32")),
    "3,000 objects deep": ('{"a":' * 3_000, 400, ("too deeply",)),
    "33 arrays in one another": ("[" * 33 + "]" * 33, 400, ("too deeply",)),
    "100,000 brackets": ("[" * 100_000, 413, ("too large", "16 KiB")),
    "a 20 KiB body": ('{"model": "' + "x" * 20_000 + '"}', 413, ("too large", "16 KiB")),
    "a 7 MiB body": ('{"model": "' + "x" * (7 * MB) + '"}', 413, ("too large", "16 KiB")),
}


@pytest.mark.parametrize("path", ["/api/classroom", "/api/finetune"])
@pytest.mark.parametrize("body, status, words", HOSTILE_JSON.values(), ids=HOSTILE_JSON.keys())
def test_nested_or_oversized_json_gets_a_sentence(client, digits, path, body, status, words):
    response = client.post(path, data=body, content_type="application/json", headers=TEACHER)
    assert_error_sentence(response, status, *words)
    assert client.get("/api/classroom").get_json() == {"collecting": True, "language": None}
    assert_still_reads_a_seven(client, digits)


def test_json_up_to_the_bounds_is_read_and_brackets_in_strings_do_not_count(client):
    at_the_limit = '{"collecting": false, "deep": ' + "[" * 31 + "]" * 31 + "}"   # 32 deep with the object
    assert client.post("/api/classroom", data=at_the_limit, content_type="application/json",
                       headers=TEACHER).get_json() == {"collecting": False, "language": None}
    in_strings = '{"collecting": true, "note": "' + '[{\\"' * 2000 + '"}'
    assert client.post("/api/classroom", data=in_strings, content_type="application/json",
                       headers=TEACHER).get_json() == {"collecting": True, "language": None}


ODD_IMAGES = {
    "16-bit grey png": images.sixteen_bit_png,
    "cmyk jpeg": images.cmyk_jpeg,
    "progressive jpeg": images.progressive_jpeg,
    "palette png with transparency": images.palette_with_transparency,
    "LA png": images.la_png,
    "1-bit png": images.one_bit_png,
    "interlaced png": images.interlaced_png,
    "lossless webp": images.webp,
    "bmp": images.bmp,
}


@pytest.mark.parametrize("build", ODD_IMAGES.values(), ids=ODD_IMAGES.keys())
def test_odd_but_valid_image_is_read(client, digits, build):
    response = post_image(client, build(digits["seven"]))
    assert response.status_code == 200
    assert response.get_json()["digit"] == 7


def test_animated_gif_is_read_from_its_first_frame(client, digits):
    response = post_image(client, images.animated_gif(digits["seven"], digits["two"]), filename="x.gif")
    assert response.status_code == 200
    assert response.get_json()["digit"] == 7


@pytest.mark.parametrize("width, height", [(1, 1), (1, 4000), (4000, 1), (192, 1), (1000, 3), (3, 1000)])
def test_extreme_shapes_get_an_answer(client, width, height):
    response = post_image(client, images.dash_png(width, height))
    assert response.status_code == 200
    body = response.get_json()
    assert body["digit"] is None or 0 <= body["digit"] <= 9
    assert len(body["digits"]) == (0 if body["digit"] is None else 1)


def test_pixel_bomb_is_refused_in_under_100_ms(client):
    bomb = images.pixel_bomb_png()
    assert len(bomb) < 4096
    post_image(client, images.plain_png(8, 8))   # warm up: the first request pays for imports
    started = time.perf_counter()
    response = post_image(client, bomb)
    elapsed = time.perf_counter() - started
    assert response.status_code == 413
    assert elapsed < 0.1, f"took {elapsed * 1000:.0f} ms"
