"""A broken installation says what is wrong, and the server keeps serving what still works.

Each case builds a real model folder in tmp_path: copies of the shipped model
files, and missing, empty or damaged ones next to them.
"""

import logging
import shutil
from pathlib import Path

import pytest

from support import make_app, post_image
from webapp import PROJECT_ROOT

GOOD = "mlp"   # the smallest shipped model, copied into each temp folder


@pytest.fixture(scope="module")
def shipped() -> Path:
    return PROJECT_ROOT / "model"


def copy_model(shipped: Path, folder: Path, name: str = GOOD, report: bool = True) -> None:
    shutil.copy(shipped / f"{GOOD}.tflite", folder / f"{name}.tflite")
    if report:
        shutil.copy(shipped / f"{GOOD}.json", folder / f"{name}.json")


def app_on(folder: Path, **config):
    return make_app(folder / "drawings.sqlite", MODEL_DIR=str(folder), **config)


def damaged_model(shipped: Path) -> bytes:
    """The real model with its middle overwritten: the right size, not a usable model."""
    model = bytearray((shipped / f"{GOOD}.tflite").read_bytes())
    middle = len(model) // 2
    model[16:middle] = bytes(range(256)) * ((middle - 16) // 256) + bytes((middle - 16) % 256)
    return bytes(model)


BROKEN_FILES = {
    "keras file without its tflite export": ("broken.keras", lambda shipped: b"PK\x03\x04 a zipped Keras model",
                                             "broken.tflite is missing"),
    "empty tflite": ("broken.tflite", lambda shipped: b"", "broken.tflite is empty"),
    "text instead of a model": ("broken.tflite", lambda shipped: b"not a model\n" * 100,
                                "broken.tflite is not a readable model"),
    "damaged tflite": ("broken.tflite", damaged_model, "broken.tflite is not a readable model"),
    "truncated tflite": ("broken.tflite", lambda shipped: (shipped / f"{GOOD}.tflite").read_bytes()[:1000],
                         "broken.tflite is not a readable model"),
}


@pytest.mark.parametrize("filename, content, reason", BROKEN_FILES.values(), ids=BROKEN_FILES.keys())
def test_broken_model_is_reported_and_the_others_still_serve(tmp_path, shipped, seven, caplog,
                                                            filename, content, reason):
    copy_model(shipped, tmp_path)
    (tmp_path / filename).write_bytes(content(shipped))
    with caplog.at_level(logging.INFO, logger="digitdraw"):
        client = app_on(tmp_path).test_client()

    broken_lines = [r.getMessage() for r in caplog.records if r.name == "digitdraw" and "not loaded" in r.getMessage()]
    assert len(broken_lines) == 1
    assert reason in broken_lines[0] and "make train" in broken_lines[0]

    health = client.get("/api/health")
    assert health.status_code == 200
    assert health.get_json()["models"] == [GOOD]
    assert reason in health.get_json()["broken"]["broken"]

    assert post_image(client, seven).get_json()["digit"] == 7
    response = post_image(client, seven, model="broken")
    assert response.status_code == 400 and GOOD in response.get_json()["error"]


def test_no_model_at_all_still_starts_and_says_so_everywhere(tmp_path, seven, caplog):
    (tmp_path / "cnn.tflite").write_bytes(b"")
    with caplog.at_level(logging.INFO, logger="digitdraw"):
        client = app_on(tmp_path).test_client()
    messages = [r.getMessage() for r in caplog.records if r.name == "digitdraw"]
    assert any("no working model" in m and "make train" in m for m in messages)

    health = client.get("/api/health")
    assert health.status_code == 503
    assert health.get_json()["status"] == "unavailable" and health.get_json()["models"] == []
    assert "cnn" in health.get_json()["broken"]

    response = post_image(client, seven)
    assert response.status_code == 503
    assert "No model" in response.get_json()["error"]
    assert client.get("/api/models").get_json() == []

    for page in ("/", "/evaluation"):
        response = client.get(page)
        assert response.status_code == 200
        assert "make train" in response.get_data(as_text=True)


def test_empty_model_folder_starts_with_no_model(tmp_path):
    client = app_on(tmp_path / "does-not-exist").test_client()
    assert client.get("/api/health").status_code == 503
    assert client.get("/").status_code == 200


def test_model_without_report_serves_and_the_report_says_it_is_missing(tmp_path, shipped, seven):
    copy_model(shipped, tmp_path, report=False)
    client = app_on(tmp_path).test_client()
    assert post_image(client, seven).get_json()["digit"] == 7
    assert client.get("/api/models").get_json()[0]["test_accuracy"] is None

    response = client.get(f"/api/reports/{GOOD}")
    assert response.status_code == 404
    assert "make train" in response.get_json()["error"]
    assert client.get("/evaluation").status_code == 200


def test_damaged_report_does_not_stop_the_server(tmp_path, shipped, seven):
    copy_model(shipped, tmp_path)
    (tmp_path / f"{GOOD}.json").write_text('{"name": "mlp", "test_accuracy": 0.97, "confusion_matr')
    client = app_on(tmp_path).test_client()
    assert client.get("/evaluation").status_code == 200
    response = client.get(f"/api/reports/{GOOD}")
    assert response.status_code == 404 and response.get_json()["error"]
    assert client.get("/api/health").status_code in (200, 503)


def add_failing_route(app):
    """The only fault here that no client can cause: a view that raises. The route exists only in this test."""
    def explode():
        raise RuntimeError("secret internal detail")
    app.add_url_rule("/api/test-explodes", "api_test_explodes", explode)
    app.add_url_rule("/test-explodes", "page_test_explodes", explode)


def test_unexpected_error_from_an_injected_failing_route_is_logged_not_shown(tmp_path, shipped, seven, caplog):
    copy_model(shipped, tmp_path)
    app = app_on(tmp_path, PROPAGATE_EXCEPTIONS=False)
    add_failing_route(app)
    client = app.test_client()

    with caplog.at_level(logging.INFO):
        api_answer = client.get("/api/test-explodes")
        page_answer = client.get("/test-explodes")

    assert api_answer.status_code == 500
    assert api_answer.get_json() == {"error": "Something went wrong on the server. "
                                               "It has been logged; please try again."}
    assert page_answer.status_code == 500 and page_answer.mimetype == "text/html"
    for answer in (api_answer, page_answer):
        body = answer.get_data(as_text=True)
        assert "secret internal detail" not in body and "Traceback" not in body
    logged = [r for r in caplog.records if r.exc_info and "secret internal detail" in str(r.exc_info[1])]
    assert len(logged) == 2
    assert post_image(client, seven).get_json()["digit"] == 7
