"""Before the teacher presses Fine-tune: what the page is told (GET /api/finetune/readiness), the refusals that
need no run (too few drawings, no training tools), and who drew each drawing (the held-out rule needs it)."""

from __future__ import annotations

from support import TEACHER_TOKEN, canvas_png, make_app, post_image
from webapp import training_tools

BEARER = {"Authorization": f"Bearer {TEACHER_TOKEN}"}


def send_drawings(client, mnist, count: int, students: int = 8, start: int = 0) -> None:
    for n in range(count):
        index = start + n
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{n % students + 1}"
        response = post_image(client, canvas_png(mnist.x_test[index]), "/api/feedback",
                              label=str(int(mnist.y_test[index])))
        assert response.status_code == 201, response.json
    client.environ_base["REMOTE_ADDR"] = "127.0.0.1"


def readiness(client) -> dict:
    response = client.get("/api/finetune/readiness", headers=BEARER)
    assert response.status_code == 200
    return response.json


def test_the_teacher_sees_the_drawings_per_digit_and_how_many_more_are_needed(client, mnist):
    empty = readiness(client)
    assert (empty["drawings"], empty["needed"], empty["minimum"], empty["ready"]) == (0, 20, 20, False)
    assert empty["tools_ready"] is True and empty["reason"] is None   # the test venv has the training tools

    send_drawings(client, mnist, 12)
    state = readiness(client)
    assert (state["drawings"], state["students"], state["needed"], state["ready"]) == (12, 8, 8, False)
    assert state["held_out"] == 4   # what a run will keep aside once there are 20, not a share of these 12
    assert state["per_label"] == [int((mnist.y_test[:12] == d).sum()) for d in range(10)]
    refused = client.post("/api/finetune", headers=BEARER, json={"model": "mlp"})
    assert refused.status_code == 409 and "collect 8 more" in refused.json["error"]

    send_drawings(client, mnist, 22, start=12)
    state = readiness(client)
    assert (state["drawings"], state["held_out"], state["to_learn_from"], state["ready"]) == (34, 7, 27, True)


def test_readiness_is_the_teachers(client):
    response = client.get("/api/finetune/readiness")
    assert response.status_code == 403 and response.json["error"]


def test_without_mnist_the_page_and_the_api_say_to_start_with_make_classroom(client, monkeypatch, tmp_path):
    monkeypatch.setenv(training_tools.DATA_ENV_VAR, str(tmp_path / "no-mnist-here.npz"))
    state = readiness(client)
    assert state["tools_ready"] is False and "make classroom" in state["reason"] and not state["ready"]
    refused = client.post("/api/finetune", headers=BEARER, json={"model": "mlp"})
    assert refused.status_code == 503 and "make classroom" in refused.json["error"]
    page = client.get("/teacher")   # signed out: no teacher controls, nothing about fine-tuning
    assert "make classroom" not in page.get_data(as_text=True)


def test_faked_missing_tensorflow_is_one_sentence_before_any_process_starts(client, monkeypatch):
    """A serving-only install cannot be made inside the test's own venv, so the lookup is faked."""
    monkeypatch.setattr(training_tools.importlib.util, "find_spec", lambda name: None)
    training_tools.training_requirements_installed.cache_clear()
    try:
        refused = client.post("/api/finetune", headers=BEARER, json={"model": "mlp"})
    finally:
        training_tools.training_requirements_installed.cache_clear()
    assert refused.status_code == 503 and refused.json["error"] == training_tools.TRAINING_TOOLS_MISSING
    assert client.get("/api/finetune", headers=BEARER).status_code == 204   # no run was started


def test_each_drawing_remembers_its_student_as_a_hash_never_the_address(database, mnist):
    app = make_app(database())
    client = app.test_client()
    send_drawings(client, mnist, 6, students=3)
    writers = app.extensions["store"].labelled_drawings().writers
    assert len(set(writers)) == 3 and writers[0] == writers[3] != writers[1]
    assert all(len(writer) == 16 and "10.0.0" not in writer for writer in writers)
