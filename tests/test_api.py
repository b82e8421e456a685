"""The JSON API, field by field, with the real shipped models."""

import base64
import io

import pytest
from PIL import Image

from support import canvas_png, make_app, post_image


def test_predict_response_shape_field_by_field(client, mnist):
    response = post_image(client, canvas_png(mnist.x_test[0]))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) >= {"digit", "confidence", "probabilities", "model", "input", "digits", "number"}
    assert body["digit"] == int(mnist.y_test[0]) == 7
    assert isinstance(body["confidence"], float) and 0.5 < body["confidence"] <= 1
    assert len(body["probabilities"]) == 10 and abs(sum(body["probabilities"]) - 1) < 1e-4
    assert body["confidence"] == max(body["probabilities"])
    assert body["model"] == "cnn"
    assert body["number"] == "7"
    assert len(body["digits"]) == 1
    only = body["digits"][0]
    assert only["digit"] == 7 and only["probabilities"] == body["probabilities"]
    x, y, w, h = only["box"]
    assert 0 <= x < 280 and 0 <= y < 280 and 0 < w <= 280 and 0 < h <= 280
    assert body["input"].startswith("data:image/png;base64,")
    model_input = Image.open(io.BytesIO(base64.b64decode(body["input"].split(",", 1)[1])))
    assert model_input.size == (28, 28)


def test_raw_image_body_is_accepted(client, mnist):
    response = client.post("/api/predict", data=canvas_png(mnist.x_test[1]), content_type="image/png")
    assert response.status_code == 200
    assert response.get_json()["digit"] == int(mnist.y_test[1])


@pytest.mark.parametrize("name", ["cnn", "mlp", "mlp-wide"])
def test_every_shipped_model_answers_with_normalised_probabilities(client, mnist, name):
    body = post_image(client, canvas_png(mnist.x_test[2]), model=name).get_json()
    assert body["model"] == name
    assert abs(sum(body["probabilities"]) - 1) < 1e-4
    assert body["digit"] == int(mnist.y_test[2])


def test_model_can_be_chosen_in_the_query_string(client, mnist):
    response = client.post("/api/predict?model=mlp", data=canvas_png(mnist.x_test[3]), content_type="image/png")
    assert response.get_json()["model"] == "mlp"


def test_empty_canvas_says_nothing_drawn(client):
    blank = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    buffer = io.BytesIO()
    blank.save(buffer, format="PNG")
    body = post_image(client, buffer.getvalue()).get_json()
    assert body["digit"] is None and body["digits"] == [] and body["number"] == ""


def test_models_lists_best_first(client):
    models = client.get("/api/models").get_json()
    assert [m["name"] for m in models][0] == "cnn"
    assert {m["name"] for m in models} >= {"cnn", "mlp", "mlp-wide"}
    for model in models:
        assert set(model) == {"name", "title", "description", "test_accuracy", "params", "version"}
        assert model["version"]["sha256"] and model["version"]["id"] is None   # no stored versions yet
        assert model["params"] > 0 and 0.9 < model["test_accuracy"] <= 1


def test_health_lists_models(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok" and "cnn" in response.get_json()["models"]


def test_report_by_model_name(client):
    report = client.get("/api/reports/mlp").get_json()
    assert report["name"] == "mlp" and len(report["confusion_matrix"]) == 10
    response = client.get("/api/reports/..%2Fetc%2Fpasswd")
    assert response.status_code == 404 and "error" in response.get_json()


def test_model_all_answers_every_model_from_one_request(app, client, mnist):
    png = canvas_png(mnist.x_test[1])
    body = post_image(client, png, model="all").get_json()
    names = app.extensions["models"].names
    assert [answer["model"] for answer in body["models"]] == names
    assert body["model"] == names[0] and body["digit"] == body["models"][0]["digit"]
    for answer in body["models"]:
        alone = post_image(client, png, model=answer["model"]).get_json()
        assert {key: answer[key] for key in ("digit", "probabilities", "digits", "number")} == \
               {key: alone[key] for key in ("digit", "probabilities", "digits", "number")}


def test_model_all_with_nothing_drawn_names_every_model(app, client):
    blank = io.BytesIO()
    Image.new("RGBA", (280, 280), (0, 0, 0, 0)).save(blank, format="PNG")
    body = post_image(client, blank.getvalue(), model="all").get_json()
    assert body["digit"] is None and body["inputs"] == []
    assert [answer["model"] for answer in body["models"]] == app.extensions["models"].names
    assert all(answer["digit"] is None for answer in body["models"])


def test_an_unknown_model_is_named_with_the_ones_there_are(client, seven):
    assert client.get("/api/reports/resnet").get_json() == {
        "error": "Unknown model 'resnet': use one of cnn, mlp-wide, mlp."}
    assert post_image(client, seven, model="resnet").get_json() == {
        "error": "Unknown model 'resnet': use one of cnn, mlp-wide, mlp."}


def test_an_unknown_model_on_a_server_without_models_says_none_is_loaded(tmp_path, seven):
    """Not "use one of .": the same sentence from every endpoint that takes a model name."""
    models = tmp_path / "no-models"
    models.mkdir()
    client = make_app(tmp_path / "drawings.sqlite", MODEL_DIR=str(models)).test_client()
    sentence = "Unknown model 'cnn': no model is loaded on this server; see /api/health."
    report = client.get("/api/reports/cnn")
    assert report.status_code == 404 and report.get_json() == {"error": sentence}
    feedback = post_image(client, seven, path="/api/feedback", model="cnn", label="7")
    assert feedback.status_code == 400 and feedback.get_json() == {"error": sentence}
    predict = post_image(client, seven, model="cnn")
    assert predict.status_code == 503 and "No model is loaded" in predict.get_json()["error"]


@pytest.mark.parametrize("limit, words", [
    (100_000, "97.7 KiB"), (100 * 1024, "100 KiB"), (1536, "1.5 KiB"), (8 * 1024 * 1024, "8 MiB"),
    (int(2.5 * 1024 * 1024), "2.5 MiB"),
])
def test_a_413_states_the_upload_limit_in_words(tmp_path, limit, words):
    client = make_app(tmp_path / "drawings.sqlite", MAX_CONTENT_LENGTH=limit).test_client()
    response = client.post("/api/predict", data=b"\0" * (limit + 1), content_type="image/png")
    assert response.status_code == 413
    assert response.get_json() == {"error": f"The upload is too large: the limit is {words}."}
