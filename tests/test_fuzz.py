"""Fuzzing /api/predict with Hypothesis: random bytes, mutated real images, random fields and paths.

Whatever arrives, the answer is never a 5xx, every refusal is JSON with an `error`
sentence, and no request takes longer than REQUEST_TIME_LIMIT. About 3,000
requests in all, through the Flask test client and the real shipped models.
"""

import io
import struct
import time
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support import canvas_png, make_app
from support import hostile_images as images
from training.mnist import load_mnist

REQUEST_TIME_LIMIT = 1.0   # seconds; a normal drawing takes a few milliseconds
ANSWERS = {200, 400, 413, 415}
FUZZ = settings(deadline=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

CONTENT_TYPES = ["multipart", "image/png", "image/jpeg", "image/gif", "image/svg+xml", "application/octet-stream",
                 "text/plain", "multipart/form-data; boundary=fuzz", None]


class SeedImages(list):
    """The seed files; a short repr keeps Hypothesis' failure report readable."""

    def __repr__(self):
        return f"<{len(self)} seed images>"


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory):
    """One app for all examples of a test (Hypothesis runs them in one fixture scope)."""
    return make_app(tmp_path_factory.mktemp("fuzz") / "drawings.sqlite")


@pytest.fixture(scope="module")
def seeds():
    """Small real drawings in every accepted format: the starting points for mutation."""
    mnist = load_mnist()
    seven, two = mnist.x_test[0], mnist.x_test[1]
    return SeedImages([
        canvas_png(seven, size=48),
        images.encoded(images.black_on_white(seven, size=40), "PNG"),
        images.palette_with_transparency(seven),
        images.encoded(images.black_on_white(seven, size=40).convert("RGB"), "JPEG", quality=80),
        images.progressive_jpeg(seven),
        images.animated_gif(seven, two),
        images.encoded(images.black_on_white(seven, size=40), "WEBP", lossless=True),
        images.encoded(images.black_on_white(seven, size=40).convert("RGB"), "WEBP", quality=60),
        images.encoded(images.black_on_white(seven, size=32), "BMP"),
    ])


def post(client, data: bytes, content_type: str | None, mode: str = "digit"):
    url = f"/api/predict?mode={mode}"
    if content_type == "multipart":
        return client.post(url, data={"image": (io.BytesIO(data), "drawing.png")}, content_type="multipart/form-data")
    return client.post(url, data=data, content_type=content_type)


def timed(send):
    started = time.perf_counter()
    response = send()
    return response, time.perf_counter() - started


def assert_sane_answer(response, elapsed: float):
    assert response.status_code in ANSWERS, response.get_data(as_text=True)[:300]
    assert elapsed < REQUEST_TIME_LIMIT, f"took {elapsed * 1000:.0f} ms"
    body = response.get_json()
    if response.status_code == 200:
        assert body["digit"] is None or 0 <= body["digit"] <= 9
        if body["digit"] is not None:
            assert abs(sum(body["probabilities"]) - 1) < 1e-3
    else:
        assert isinstance(body["error"], str) and body["error"]


@settings(FUZZ, max_examples=1000)
@given(data=st.binary(max_size=3000), content_type=st.sampled_from(CONTENT_TYPES))
def test_random_bytes_never_cause_a_server_error(fuzzed_app, data, content_type):
    assert_sane_answer(*timed(lambda: post(fuzzed_app.test_client(), data, content_type)))


def with_png_size(data: bytearray, width: int, height: int) -> bytearray:
    """Rewrite the IHDR size of a PNG and fix its CRC, so the new size is believed."""
    if data[:8] != images.PNG_SIGNATURE or len(data) < 33:
        return data
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return data


def mutate(data: bytes, mutation: tuple) -> bytes:
    kind, *args = mutation
    out = bytearray(data)
    if not out:
        return data
    if kind == "flip":
        position, bit = args
        out[position % len(out)] ^= 1 << bit
    elif kind == "truncate":
        out = out[:int(len(out) * args[0])]
    elif kind == "overwrite header":
        position, patch = args
        start = position % min(len(out), 64)
        out[start:start + len(patch)] = patch
    elif kind == "insert":
        position, patch = args
        out[position % len(out):position % len(out)] = patch
    elif kind == "png size":
        out = with_png_size(out, *args)
    return bytes(out)


MUTATIONS = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 1 << 20), st.integers(0, 7)),
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(st.just("overwrite header"), st.integers(0, 63), st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("insert"), st.integers(0, 1 << 20), st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("png size"), st.integers(0, (1 << 31) - 1), st.integers(0, (1 << 31) - 1)),
)


@settings(FUZZ, max_examples=1500)
@given(choice=st.data(), mutations=st.lists(MUTATIONS, min_size=1, max_size=6),
       content_type=st.sampled_from(["multipart", "image/png"]), mode=st.sampled_from(["digit", "number"]))
def test_mutated_images_never_cause_a_server_error(fuzzed_app, seeds, choice, mutations, content_type, mode):
    data = choice.draw(st.sampled_from(seeds), label="seed")
    for mutation in mutations:
        data = mutate(data, mutation)
    assert_sane_answer(*timed(lambda: post(fuzzed_app.test_client(), data, content_type, mode)))


@settings(FUZZ, max_examples=200)
@given(model=st.text(max_size=40), mode=st.text(max_size=20), filename=st.text(max_size=40),
       path=st.text(max_size=30))
def test_random_fields_and_paths_never_cause_a_server_error(fuzzed_app, seeds, model, mode, filename, path):
    client = fuzzed_app.test_client()
    response, elapsed = timed(lambda: client.post(
        "/api/predict", data={"image": (io.BytesIO(seeds[0]), filename), "model": model, "mode": mode},
        content_type="multipart/form-data"))
    assert_sane_answer(response, elapsed)
    for method in (client.get, client.post):
        response = method("/api/" + path)
        assert response.status_code < 500
        if response.status_code >= 400:
            assert isinstance(response.get_json()["error"], str)
