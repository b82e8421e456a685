"""POST /api/feedback, GET /api/drawings, DELETE /api/drawings/<id>, the /drawings page and the export,
on the real app with the shipped models, a real SQLite file and real MNIST test digits."""

import base64
import io
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from unittest.mock import ANY

import cv2
import numpy as np
import pytest
from PIL import Image

from support import TEACHER_TOKEN, canvas_png, make_app, number_png
from webapp.store import drawing_scores
from webapp.store.drawings import NewDrawing
from webapp.vision import preprocess

TOKEN = TEACHER_TOKEN


@pytest.fixture()
def app(database):
    """Every test here runs on a SQLite file and on PostgreSQL (tests/conftest.py's `database`)."""
    return make_app(database())


def post_feedback(client, png: bytes | None, **fields):
    data = dict(fields)
    if png is not None:
        data["image"] = (io.BytesIO(png), "drawing.png")
    return client.post("/api/feedback", data=data, content_type="multipart/form-data")


def post_digit(client, mnist, index, **fields):
    fields.setdefault("label", str(mnist.y_test[index]))
    return post_feedback(client, canvas_png(mnist.x_test[index]), **fields)


def decode_data_url(url: str) -> np.ndarray:
    assert url.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))


def test_feedback_is_stored_with_the_input_and_the_answer_the_server_computes(app, client, mnist):
    png = canvas_png(mnist.x_test[0])
    response = post_feedback(client, png, label="4", prediction="3", mode="digit")   # a 7 the client calls a 3
    assert response.status_code == 201
    assert response.get_json() == {"id": 1, "label": 4, "undo": ANY, "undo_seconds": 60}

    body = client.get("/api/drawings").get_json()
    assert body["total"] == 1
    [item] = body["items"]
    default = app.extensions["models"].default
    assert (item["id"], item["label"], item["prediction"], item["mode"]) == (1, 4, 7, "digit")
    assert (item["model"], item["model_version"]) == (default.name, default.version)
    assert len(item["probabilities"]) == 10 and abs(sum(item["probabilities"]) - 1) < 1e-4
    expected = preprocess.digits_in(preprocess.decode(png, 10**8))[0].pixels
    assert np.abs(decode_data_url(item["input"]).astype(int) - np.rint(expected * 255)).max() <= 1


@pytest.mark.parametrize("claimed", [None, "9", "x", "-1" * 500])
def test_the_named_models_own_answer_is_kept_whatever_the_client_claims(app, client, mnist, claimed):
    name = app.extensions["models"].names[-1]
    fields = {} if claimed is None else {"prediction": claimed}
    assert post_digit(client, mnist, 1, model=name, **fields).status_code == 201
    [item] = client.get("/api/drawings").get_json()["items"]
    assert item["model"] == name
    assert item["prediction"] == int(np.argmax(item["probabilities"]))


def test_200_concurrent_posts_are_all_stored_with_unique_ids(app, mnist):
    count, threads = 200, 16
    pngs = [canvas_png(mnist.x_test[i]) for i in range(count)]
    local_clients = {}

    def post(index):
        client = local_clients.setdefault(index % threads, app.test_client())
        return post_feedback(client, pngs[index], label=str(mnist.y_test[index]))

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        responses = list(pool.map(post, range(count)))
    seconds = time.perf_counter() - started
    print(f"{count} feedback posts from {threads} threads in {seconds:.2f} s ({count / seconds:.0f}/s)")

    assert [r.status_code for r in responses] == [201] * count
    ids = [r.get_json()["id"] for r in responses]
    assert len(set(ids)) == count
    store = app.extensions["store"]
    stored_ids, x, y = store.labelled_inputs()
    assert sorted(ids) == stored_ids.tolist()
    assert sorted(y.tolist()) == sorted(mnist.y_test[:count].tolist())
    by_id = dict(zip(ids, range(count)))
    assert all(y[n] == mnist.y_test[by_id[i]] for n, i in enumerate(stored_ids))


def test_a_restarted_app_on_the_same_file_keeps_the_drawings(database, mnist):
    database = database("kept")
    first = make_app(database).test_client()
    ids = [post_digit(first, mnist, i).get_json()["id"] for i in range(3)]
    restarted = make_app(database).test_client()
    body = restarted.get("/api/drawings").get_json()
    assert body["total"] == 3
    assert [item["id"] for item in body["items"]] == ids[::-1]
    assert [item["label"] for item in body["items"]] == mnist.y_test[:3][::-1].tolist()


@pytest.mark.parametrize("label", ["-1", "10", "a", "", " 4", "4.0", None])
def test_invalid_or_missing_label_is_a_400_sentence(client, mnist, label):
    fields = {} if label is None else {"label": label}
    response = post_feedback(client, canvas_png(mnist.x_test[0]), **fields)
    assert response.status_code == 400
    assert "label" in response.get_json()["error"]
    assert client.get("/api/drawings").get_json()["total"] == 0


@pytest.mark.parametrize("fields, word", [
    ({"mode": "letters"}, "mode"),
    ({"model": "no-such-model"}, "model"),
])
def test_invalid_optional_fields_are_400_sentences(client, mnist, fields, word):
    response = post_digit(client, mnist, 0, **fields)
    assert response.status_code == 400
    assert word in response.get_json()["error"]


def test_missing_image_is_400(client):
    response = post_feedback(client, None, label="3")
    assert response.status_code == 400
    assert "image" in response.get_json()["error"]


def test_undecodable_and_empty_images_are_refused(client, mnist):
    not_an_image = post_feedback(client, b"this is not a png", label="3")
    assert not_an_image.status_code == 415 and "image" in not_an_image.get_json()["error"]
    truncated = post_feedback(client, canvas_png(mnist.x_test[0])[:200], label="3")
    assert truncated.status_code == 400 and truncated.get_json()["error"]
    blank = post_feedback(client, canvas_png(np.zeros((28, 28), np.uint8)), label="3")
    assert blank.status_code == 400 and "Nothing is drawn" in blank.get_json()["error"]
    assert client.get("/api/drawings").get_json()["total"] == 0


def phone_photo_with_gps(mnist) -> bytes:
    """An 8 MP JPEG of a digit on lit paper, with the EXIF a phone writes: camera, time and GPS position."""
    height, width = 2448, 3264
    rows, cols = np.mgrid[0:height, 0:width]
    paper = 200 + 30 * np.sin(cols / 500) + 15 * np.cos(rows / 400)
    noise = np.random.default_rng(7).normal(0, 5, (height, width))
    ink = cv2.resize(mnist.x_test[0], (1800, 1800), interpolation=cv2.INTER_CUBIC).astype(float)
    grey = paper + noise
    grey[300:2100, 700:2500] -= ink * 0.7
    photo = Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8)).convert("RGB")
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0132] = "PhoneMaker", "Phone 12", "2026:11:23 09:15:00"
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}   # GPSInfo: Paris
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=92, exif=exif)
    return buffer.getvalue()


def stored_images(app) -> list[bytes]:
    return [bytes(row[0]) for row in app.extensions["store"].read("SELECT image FROM drawings ORDER BY id")]


def test_a_phone_photo_is_kept_downscaled_without_its_exif_or_gps(app, client, mnist):
    photo = phone_photo_with_gps(mnist)
    assert 0x8825 in Image.open(io.BytesIO(photo)).getexif() and len(photo) > 2 * 1024 * 1024
    response = client.post("/api/feedback", data={"image": (io.BytesIO(photo), "IMG_0001.jpg"), "label": "7"},
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    [kept] = stored_images(app)
    print(f"8 MP phone photo: {len(photo):,} bytes sent, {len(kept):,} bytes kept")
    assert len(kept) < 64 * 1024
    image = Image.open(io.BytesIO(kept))
    assert image.format == "JPEG" and max(image.size) == 256 and image.size == (256, 192)
    assert not image.getexif() and "exif" not in image.info and b"Exif" not in kept and b"PhoneMaker" not in kept


def test_a_canvas_drawing_is_kept_as_a_small_transparent_png(tmp_path, mnist):
    app = make_app(tmp_path / "side.sqlite", FEEDBACK_IMAGE_SIDE=100)
    assert post_digit(app.test_client(), mnist, 0).status_code == 201
    [kept] = stored_images(app)
    image = Image.open(io.BytesIO(kept))
    assert image.format == "PNG" and image.size == (100, 100) and image.mode == "LA"
    assert image.getchannel("A").getextrema() == (0, 255)


def test_drawings_are_paged_and_filtered_by_label(client, mnist):
    for index in range(12):
        assert post_digit(client, mnist, index).status_code == 201
    labels = mnist.y_test[:12]
    first = client.get("/api/drawings?limit=5").get_json()
    second = client.get("/api/drawings?limit=5&offset=5").get_json()
    assert (first["total"], len(first["items"]), len(second["items"])) == (12, 5, 5)
    assert [i["id"] for i in first["items"] + second["items"]] == list(range(12, 2, -1))
    ones = client.get("/api/drawings?label=1").get_json()
    assert ones["total"] == int(np.sum(labels == 1)) and {i["label"] for i in ones["items"]} == {1}


@pytest.mark.parametrize("query", ["limit=x", "limit=-1", "limit=0", "limit=1000", "offset=-5", "offset=²",
                                   "label=12"])
def test_bad_paging_parameters_are_400(client, query):
    response = client.get(f"/api/drawings?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.get_json()["error"]


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer wrong"},
    {"Authorization": TOKEN},
    {"X-Delete-Token": "wrong"},
    {"X-Delete-Token": ""},
])
def test_delete_without_the_right_token_is_403_and_keeps_the_drawing(client, mnist, headers):
    drawing_id = post_digit(client, mnist, 0).get_json()["id"]
    response = client.delete(f"/api/drawings/{drawing_id}", headers=headers)
    assert response.status_code == 403
    assert "token" in response.get_json()["error"]
    assert client.get("/api/drawings").get_json()["total"] == 1


@pytest.mark.parametrize("headers", [{"Authorization": f"Bearer {TOKEN}"}, {"X-Delete-Token": TOKEN}])
def test_delete_with_the_token_removes_the_drawing_then_404(client, mnist, headers):
    keep, remove = (post_digit(client, mnist, i).get_json()["id"] for i in range(2))
    assert client.delete(f"/api/drawings/{remove}", headers=headers).status_code == 204
    assert [i["id"] for i in client.get("/api/drawings").get_json()["items"]] == [keep]
    again = client.delete(f"/api/drawings/{remove}", headers=headers)
    assert again.status_code == 404 and f"#{remove}" in again.get_json()["error"]


def test_a_failed_token_attempt_is_logged_without_the_token(client, mnist, caplog):
    drawing_id = post_digit(client, mnist, 0).get_json()["id"]
    with caplog.at_level(logging.WARNING, logger="digitdraw"):
        client.delete(f"/api/drawings/{drawing_id}", headers={"Authorization": "Bearer guessed-token-4567"})
    assert "teacher action refused: a wrong token from 127.0.0.1" in caplog.text
    assert "guessed-token-4567" not in caplog.text


def test_deleting_is_off_when_no_token_is_configured(tmp_path, mnist):
    client = make_app(tmp_path / "open.sqlite", TEACHER_TOKEN=None).test_client()
    drawing_id = post_digit(client, mnist, 0).get_json()["id"]
    response = client.delete(f"/api/drawings/{drawing_id}", headers={"Authorization": "Bearer None"})
    assert response.status_code == 403
    assert "turned off" in response.get_json()["error"]


def page_scores_match_the_models(app, page: str) -> None:
    """Each model's accuracy on the page equals running it now on every stored input."""
    _, x, y = app.extensions["store"].labelled_inputs()
    for name in app.extensions["models"].names:
        predicted = app.extensions["models"].classifiers[name].predict(x / 255.0).argmax(axis=1)
        right = int(np.sum(predicted == y))
        assert f'data-model="{name}">{right / len(y) * 100:.1f}&nbsp;%</td>' in page
        assert f"<td>{len(y) - right} of {len(y)}</td>" in page


def test_page_scores_follow_added_and_deleted_drawings(app, client, mnist):
    for index in range(20):
        post_digit(client, mnist, index)
    page_scores_match_the_models(app, client.get("/drawings").get_data(as_text=True))
    for index in range(20, 40):
        post_digit(client, mnist, index)
    for drawing_id in (2, 7, 30):
        client.delete(f"/api/drawings/{drawing_id}", headers={"X-Delete-Token": TOKEN})
    page = client.get("/drawings").get_data(as_text=True)
    assert "37 drawings" in page
    page_scores_match_the_models(app, page)


def test_drawings_page_shows_grid_accuracy_per_model_and_confusion_matrix(app, client, mnist):
    count = 30
    for index in range(count):
        post_digit(client, mnist, index)
    page = client.get("/drawings").get_data(as_text=True)
    assert page.count('<li class="drawing') == count
    for name in app.extensions["models"].names:
        classifier = app.extensions["models"].classifiers[name]
        images = np.stack([preprocess.digits_in(preprocess.decode(canvas_png(mnist.x_test[i]), 10**8))[0].pixels
                           for i in range(count)])
        right = int(np.sum(classifier.predict(images).argmax(axis=1) == mnist.y_test[:count]))
        assert f'data-model="{name}">{right / count * 100:.1f}&nbsp;%</td>' in page
        assert f"<td>{count - right} of {count}</td>" in page
    assert 'class="confusion"' in page

    sevens = client.get("/drawings?label=7").get_data(as_text=True)
    assert sevens.count('<li class="drawing') == int(np.sum(mnist.y_test[:count] == 7))
    assert "The drawings labelled 7" in sevens
    beyond = client.get("/drawings?page=9").get_data(as_text=True)
    assert "fewer drawings than this page needs" in beyond and '<li class="drawing' not in beyond


@pytest.mark.parametrize("query", ["page=0", "page=x", "label=10"])
def test_drawings_page_refuses_bad_parameters(client, query):
    assert client.get(f"/drawings?{query}").status_code == 400


def test_drawings_page_with_no_drawings_says_so(client):
    page = client.get("/drawings").get_data(as_text=True)
    assert "No drawings yet" in page
    assert 'id="confusion-card" aria-labelledby="confusion-title" hidden' in page   # shown by the first drawing
    assert 'aria-current="page">Drawings</a>' in page   # the site navigation leads here


def test_export_writes_keras_layout_arrays(app, client, mnist, tmp_path):
    for index in range(10):
        post_digit(client, mnist, index)
    out = tmp_path / "drawings.npz"
    result = app.test_cli_runner().invoke(args=["export-drawings", str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote 10 drawings" in result.output
    with np.load(out) as exported:
        x, y = exported["x"], exported["y"]
    assert x.dtype == np.uint8 and x.shape == (10, 28, 28)
    assert y.dtype == np.uint8 and y.tolist() == mnist.y_test[:10].tolist()
    _, stored_x, _ = app.extensions["store"].labelled_inputs()
    np.testing.assert_array_equal(x, stored_x)


CROSS_SITE = [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://localhost.evil.example"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Sec-Fetch-Site": "cross-site", "Origin": "http://localhost"},   # a forged Origin cannot outvote the browser
]
OWN_PAGE = [
    {"Origin": "http://localhost"},
    {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"},
    {"Sec-Fetch-Site": "none"},
    {},   # curl or a script: no browser page at all
]


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_feedback_from_another_sites_page_is_403_and_keeps_nothing(client, mnist, headers):
    response = client.post("/api/feedback", headers=headers, content_type="multipart/form-data",
                           data={"image": (io.BytesIO(canvas_png(mnist.x_test[0])), "drawing.png"), "label": "7"})
    assert response.status_code == 403
    assert "own pages" in response.get_json()["error"]
    assert client.get("/api/drawings").get_json()["total"] == 0


@pytest.mark.parametrize("headers", OWN_PAGE)
def test_feedback_from_our_own_page_or_a_script_is_kept(client, mnist, headers):
    response = client.post("/api/feedback", headers=headers, content_type="multipart/form-data",
                           data={"image": (io.BytesIO(canvas_png(mnist.x_test[0])), "drawing.png"), "label": "7"})
    assert response.status_code == 201


@pytest.mark.parametrize("headers", CROSS_SITE[:1] + CROSS_SITE[3:4])
def test_a_delete_from_another_sites_page_is_403_even_with_the_token(client, mnist, headers):
    drawing_id = post_digit(client, mnist, 0).get_json()["id"]
    response = client.delete(f"/api/drawings/{drawing_id}", headers={**headers, "X-Delete-Token": TOKEN})
    assert response.status_code == 403 and "own pages" in response.get_json()["error"]
    assert client.get("/api/drawings").get_json()["total"] == 1


def test_a_number_is_kept_as_one_row_per_digit_with_its_own_label_and_crop(app, client, mnist):
    indexes = [1, 2, 0]   # MNIST's 2, 1 and 7
    label = "".join(str(mnist.y_test[index]) for index in indexes)
    response = post_feedback(client, number_png(mnist, indexes), label=label, mode="number")
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {"id": 1, "ids": [1, 2, 3], "label": label, "undo": ANY, "undo_seconds": 60}

    items = client.get("/api/drawings").get_json()["items"][::-1]
    assert [item["label"] for item in items] == [int(digit) for digit in label]
    assert {item["mode"] for item in items} == {"number"}
    _, x, _ = app.extensions["store"].labelled_inputs()
    default = app.extensions["models"].default
    assert [item["prediction"] for item in items] == default.predict(x / 255.0).argmax(axis=1).tolist()
    crops = [Image.open(io.BytesIO(image)) for image in stored_images(app)]
    assert all(crop.height > crop.width / 2 and crop.height <= 256 for crop in crops)   # one digit each, not the row
    assert sum(crop.width for crop in crops) < 256


@pytest.mark.parametrize("label, says", [("21", "holds 3 digits but the label has 2"),
                                         ("2170", "holds 3 digits but the label has 4"),
                                         ("2a7", "number's digits"), ("", "Say which number"),
                                         ("1" * 17, "at most 16")])
def test_a_number_label_that_does_not_fit_the_drawing_is_a_400_sentence(client, mnist, label, says):
    response = post_feedback(client, number_png(mnist, [1, 2, 0]), label=label, mode="number")
    assert response.status_code == 400 and says in response.get_json()["error"]
    assert client.get("/api/drawings").get_json()["total"] == 0


def test_health_reports_the_stores_use_and_quota(database, mnist):
    client = make_app(database("health"), FEEDBACK_MAX_ROWS=10, FEEDBACK_MAX_BYTES=2**30).test_client()
    for index in range(3):
        post_digit(client, mnist, index)
    health = client.get("/api/health")
    assert health.status_code == 200
    store = health.get_json()["store"]
    assert store["status"] == "ok" and store["rows"] == 3 and 0 < store["bytes"] < 2**20
    assert (store["max_rows"], store["max_bytes"]) == (10, 2**30)


def test_drawings_page_scores_come_from_answers_kept_at_store_time(app, client, mnist, monkeypatch):
    for index in range(10):
        post_digit(client, mnist, index)
    for classifier in app.extensions["models"].classifiers.values():   # no model runs while the page is built
        monkeypatch.setattr(classifier, "predict", lambda images: pytest.fail("a model ran on a page view"))
    page = client.get("/drawings").get_data(as_text=True)
    assert "10 drawings" in page and "read so far" not in page
    monkeypatch.undo()
    page_scores_match_the_models(app, page)


def test_a_new_model_version_reads_older_drawings_in_batches_and_the_page_says_how_far(app, client, mnist,
                                                                                       monkeypatch):
    store = app.extensions["store"]
    store.add(*(NewDrawing(image=b"png", pixels=mnist.x_test[i], label=int(mnist.y_test[i])) for i in range(25)))
    monkeypatch.setattr(drawing_scores, "CATCH_UP_BATCH", 10)
    for read in (10, 20):
        page = client.get("/drawings").get_data(as_text=True)
        assert page.count(f"({read} of 25 drawings read so far") == len(app.extensions["models"].names)
    page = client.get("/drawings").get_data(as_text=True)
    assert "read so far" not in page
    page_scores_match_the_models(app, page)
