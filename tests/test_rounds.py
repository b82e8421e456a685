"""Class rounds over HTTP with the real app, shipped models, real MNIST digits and a SQLite store: the teacher
starts, pauses, ends, deletes and hides; students send; the round's report and its event stream (webapp/http/
rounds.py, round_events.py). Across two gunicorn workers and PostgreSQL instances: tests/test_rounds_live.py."""

from __future__ import annotations

import json

import numpy as np
import pytest

from support import TEACHER_TOKEN, canvas_png, post_image
from webapp.http import nicknames, round_events

TEACHER = {"Authorization": f"Bearer {TEACHER_TOKEN}"}


def start(client, **body):
    return client.post("/api/rounds", json=body, headers=TEACHER)


def send(client, round_id: int, png: bytes, **fields):
    return post_image(client, png, f"/api/rounds/{round_id}/drawings", **fields)


def digits_of(mnist, digit: int, count: int, skip: int = 0) -> list[bytes]:
    return [canvas_png(mnist.x_test[index]) for index in np.flatnonzero(mnist.y_test == digit)[skip:skip + count]]


def read_events(response, count: int) -> list[tuple[str | None, str, dict]]:
    """The first `count` events of a stream as (id, event, data), then the stream is closed."""
    found, text = [], ""
    chunks = iter(response.response)
    while len(found) < count:
        text += next(chunks).decode()
        while "\n\n" in text and len(found) < count:
            block, text = text.split("\n\n", 1)
            fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and line[0] != ":")
            if "event" in fields:
                found.append((fields.get("id"), fields["event"], json.loads(fields["data"])))
    response.close()
    return found


def test_the_teacher_starts_a_round_and_only_one_is_open_at_a_time(client):
    assert client.get("/api/rounds/current").status_code == 204
    started = start(client, kind="digit", digit=4)
    assert started.status_code == 201
    body = started.get_json()
    assert {key: body[key] for key in ("kind", "digit", "state", "prompt")} == {
        "kind": "digit", "digit": 4, "state": "open", "prompt": "Draw a 4"}
    assert start(client, kind="any").status_code == 409
    current = client.get("/api/rounds/current")
    assert current.status_code == 200 and current.get_json()["id"] == body["id"]
    assert nicknames.SHAPE.fullmatch(current.get_json()["nickname"])
    assert client.post(f"/api/rounds/{body['id']}/end", headers=TEACHER).get_json()["state"] == "ended"
    assert client.get("/api/rounds/current").status_code == 204
    assert start(client, kind="any").status_code == 201


@pytest.mark.parametrize("body", [{}, {"kind": "draw"}, {"kind": "digit"}, {"kind": "digit", "digit": 10},
                                  {"kind": "digit", "digit": "4"}, {"kind": "digit", "digit": True}, [1]])
def test_a_round_that_makes_no_sense_is_a_400(client, body):
    response = client.post("/api/rounds", json=body, headers=TEACHER)
    assert response.status_code == 400 and response.get_json()["error"]


def test_a_student_cannot_start_end_pause_hide_delete_or_watch(client, mnist):
    assert start(client, kind="digit", digit=7).status_code == 201
    round_id = client.get("/api/rounds/current").get_json()["id"]
    sent = send(client, round_id, digits_of(mnist, 7, 1)[0]).get_json()["id"]
    student = {"Sec-Fetch-Site": "same-origin"}
    refused = [client.post("/api/rounds", json={"kind": "any"}, headers=student),
               client.post(f"/api/rounds/{round_id}/end", headers=student),
               client.post(f"/api/rounds/{round_id}/pause", headers=student),
               client.delete(f"/api/rounds/{round_id}/drawings/{sent}", headers=student),
               client.delete(f"/api/rounds/{round_id}", headers=student),
               client.get(f"/api/rounds/{round_id}"),
               client.get(f"/api/rounds/{round_id}/drawings"),
               client.get(f"/api/rounds/{round_id}/events")]
    assert [response.status_code for response in refused] == [403] * len(refused)
    assert client.get("/api/rounds/current").get_json()["state"] == "open"


def test_students_send_to_a_digit_round_and_get_the_served_models_reading(client, mnist):
    round_id = start(client, kind="digit", digit=3).get_json()["id"]
    answers = [send(client, round_id, png) for png in digits_of(mnist, 3, 3)]
    assert [answer.status_code for answer in answers] == [201] * 3
    first = answers[0].get_json()
    assert first["round"] == round_id and first["label"] == 3 and first["digit"] == 3 and first["right"] is True
    assert first["model"] == "cnn" and 0.5 < first["confidence"] <= 1
    assert nicknames.SHAPE.fullmatch(first["nickname"])
    assert len({answer.get_json()["nickname"] for answer in answers}) == 1   # one device, one nickname
    report = client.get(f"/api/rounds/{round_id}", headers=TEACHER).get_json()
    assert report["sent"] == 3 and report["confusion"][3][3] == 3 and report["per_digit"][3] == {
        "digit": 3, "right": 3, "total": 3}
    assert {model["model"]: (model["right"], model["read"]) for model in report["models"]}["cnn"] == (3, 3)
    assert len(report["models"][0]["mnist_per_digit"]) == 10
    store = client.application.extensions["store"]
    assert store.count() == 3 and len(store.labelled_drawings().ids) == 3   # the class's: fine-tuning learns them
    assert client.get("/api/drawings").get_json()["total"] == 0   # a student's /drawings does not show them


def test_an_any_round_needs_the_students_digit_and_keeps_it_as_the_label(client, mnist):
    round_id = start(client, kind="any").get_json()["id"]
    five, = digits_of(mnist, 5, 1)
    assert send(client, round_id, five).status_code == 400
    answer = send(client, round_id, five, label="6").get_json()   # what the student says, right or wrong
    assert answer["label"] == 6 and answer["digit"] == 5 and answer["right"] is False


def test_a_paused_or_ended_round_takes_no_drawing_and_the_same_drawing_is_kept_once(client, mnist):
    round_id = start(client, kind="digit", digit=1).get_json()["id"]
    first, second = digits_of(mnist, 1, 2)
    assert client.post(f"/api/rounds/{round_id}/pause", headers=TEACHER).get_json()["state"] == "paused"
    paused = send(client, round_id, first)
    assert paused.status_code == 409 and "paused" in paused.get_json()["error"]
    assert client.post(f"/api/rounds/{round_id}/resume", headers=TEACHER).get_json()["state"] == "open"
    kept = send(client, round_id, first)
    assert kept.status_code == 201
    again = send(client, round_id, first)   # sent again after its answer was lost on a flaky wifi
    assert again.status_code == 200 and again.get_json()["already"] is True
    assert {key: again.get_json()[key] for key in ("id", "digit", "label", "right")} == {
        key: kept.get_json()[key] for key in ("id", "digit", "label", "right")}
    other_device = client.application.test_client()
    copied = send(other_device, round_id, first)   # the very same drawing from another device
    assert copied.status_code == 409 and "exactly like one kept already" in copied.get_json()["error"]
    assert client.get(f"/api/rounds/{round_id}", headers=TEACHER).get_json()["sent"] == 1
    client.post(f"/api/rounds/{round_id}/end", headers=TEACHER)
    assert send(client, round_id, second).status_code == 409
    assert client.post(f"/api/rounds/{round_id}/resume", headers=TEACHER).status_code == 409
    assert send(client, round_id + 1, second).status_code == 404


def test_a_hidden_drawing_leaves_the_round_and_the_store(client, mnist):
    round_id = start(client, kind="digit", digit=2).get_json()["id"]
    ids = [send(client, round_id, png).get_json()["id"] for png in digits_of(mnist, 2, 3)]
    assert client.delete(f"/api/rounds/{round_id}/drawings/{ids[1]}", headers=TEACHER).status_code == 204
    assert client.delete(f"/api/rounds/{round_id}/drawings/{ids[1]}", headers=TEACHER).status_code == 404
    listed = client.get(f"/api/rounds/{round_id}/drawings", headers=TEACHER).get_json()
    assert [item["id"] for item in listed["items"]] == [ids[0], ids[2]] and listed["hidden"] == [ids[1]]
    assert client.get(f"/api/drawings/{ids[1]}/original", headers=TEACHER).status_code == 404
    assert client.get(f"/api/rounds/{round_id}", headers=TEACHER).get_json()["sent"] == 2


def test_deleting_a_round_deletes_its_drawings_and_keeps_the_others(client, mnist):
    outside = post_image(client, digits_of(mnist, 8, 1)[0], "/api/feedback", label="8").get_json()["id"]
    round_id = start(client, kind="digit", digit=9).get_json()["id"]
    for png in digits_of(mnist, 9, 2):
        send(client, round_id, png)
    assert client.delete(f"/api/rounds/{round_id}", headers=TEACHER).get_json() == {"deleted": 2}
    assert client.get(f"/api/rounds/{round_id}", headers=TEACHER).status_code == 404
    assert [item["id"] for item in client.get("/api/drawings").get_json()["items"]] == [outside]


def test_a_nickname_the_server_did_not_make_is_replaced(client):
    start(client, kind="any")
    client.set_cookie(nicknames.COOKIE, "<b>Mr Smith smells</b>")
    given = client.get("/api/rounds/current").get_json()["nickname"]
    assert nicknames.SHAPE.fullmatch(given) and client.get_cookie(nicknames.COOKIE).value == given.replace(" ", "-")


def test_the_stream_sends_state_drawings_with_their_ids_and_resumes_after_last_event_id(client, mnist):
    round_id = start(client, kind="digit", digit=0).get_json()["id"]
    ids = [send(client, round_id, png).get_json()["id"] for png in digits_of(mnist, 0, 3)]
    events = read_events(client.get(f"/api/rounds/{round_id}/events", headers=TEACHER, buffered=False), 4)
    assert [(event_id, name) for event_id, name, _ in events] == [
        (None, "state"), (str(ids[0]), "drawing"), (str(ids[1]), "drawing"), (str(ids[2]), "drawing")]
    tile = events[1][2]
    assert tile["label"] == 0 and tile["digit"] == 0 and tile["answers"].keys() == {"cnn", "mlp", "mlp-wide"}
    assert tile["input"].startswith("data:image/png;base64,") and tile["image"] == f"/api/drawings/{ids[0]}/original"
    client.delete(f"/api/rounds/{round_id}/drawings/{ids[0]}", headers=TEACHER)
    resumed = client.get(f"/api/rounds/{round_id}/events", buffered=False,
                         headers={**TEACHER, "Last-Event-ID": str(ids[1])})
    events = read_events(resumed, 3)
    assert [(event_id, name, data.get("id")) for event_id, name, data in events] == [
        (None, "hidden", ids[0]), (None, "state", round_id), (str(ids[2]), "drawing", ids[2])]


def test_a_flood_of_streams_from_one_address_is_refused_past_its_limit(client, seven):
    round_id = start(client, kind="any").get_json()["id"]
    streams = [client.get(f"/api/rounds/{round_id}/events", headers=TEACHER, buffered=False)
               for _ in range(round_events.PER_ADDRESS)]
    assert [stream.status_code for stream in streams] == [200] * round_events.PER_ADDRESS
    for stream in streams:
        next(iter(stream.response))   # started
    refused = client.get(f"/api/rounds/{round_id}/events", headers=TEACHER)
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
    assert "live walls" in refused.get_json()["error"]
    assert post_image(client, seven).status_code == 200   # predictions go on
    for stream in reversed(streams):   # one thread holds them all here: their request contexts nest
        stream.close()
    other = client.get(f"/api/rounds/{round_id}/events", headers=TEACHER, buffered=False)
    assert other.status_code == 200
    other.close()


def test_a_round_downloads_as_a_zip_of_pngs_with_a_csv_and_as_the_npz_train_py_reads(client, mnist, tmp_path):
    import csv
    import io
    import zipfile

    from training.drawings import load_extra_data

    outside = post_image(client, digits_of(mnist, 8, 1)[0], "/api/feedback", label="8").get_json()["id"]
    round_id = start(client, kind="any").get_json()["id"]
    sent = [send(client, round_id, png, label=str(digit)).get_json()
            for digit, png in ((6, digits_of(mnist, 6, 1)[0]), (1, digits_of(mnist, 1, 1)[0]))]
    archive = client.get(f"/api/rounds/{round_id}/export.zip", headers=TEACHER)
    assert archive.status_code == 200 and archive.mimetype == "application/zip"
    assert f"digitdraw-round-{round_id}.zip" in archive.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(archive.data)) as unzipped:
        names = unzipped.namelist()
        table = list(csv.DictReader(io.StringIO(unzipped.read("drawings.csv").decode())))
        assert all(unzipped.read(f"drawings/{answer['id']}.png").startswith(b"\x89PNG") for answer in sent)
    assert sorted(names) == sorted([f"drawings/{answer['id']}.png" for answer in sent] + ["drawings.csv"])
    assert [(int(row["id"]), int(row["round"]), int(row["label"]), int(row["cnn"])) for row in table] == [
        (answer["id"], round_id, answer["label"], answer["digit"]) for answer in sent]
    assert "nickname" not in table[0] and set(table[0]) >= {"mlp", "mlp-wide", "time"}
    with_names = client.get(f"/api/rounds/{round_id}/export.zip?nicknames=1", headers=TEACHER)
    with zipfile.ZipFile(io.BytesIO(with_names.data)) as unzipped:
        rows = list(csv.DictReader(io.StringIO(unzipped.read("drawings.csv").decode())))
    assert [row["nickname"] for row in rows] == [answer["nickname"] for answer in sent]

    npz = client.get(f"/api/rounds/{round_id}/export.npz", headers=TEACHER)
    (tmp_path / "round.npz").write_bytes(npz.data)
    with np.load(tmp_path / "round.npz") as arrays:
        assert arrays["x"].shape == (2, 28, 28) and arrays["y"].tolist() == [6, 1]
        assert arrays["ids"].tolist() == [answer["id"] for answer in sent]
    load_extra_data(tmp_path / "round.npz")   # train.py --extra-data reads it
    everything = client.get("/api/drawings/export.npz", headers=TEACHER)
    (tmp_path / "all.npz").write_bytes(everything.data)
    with np.load(tmp_path / "all.npz") as arrays:
        assert arrays["ids"].tolist() == [outside] + [answer["id"] for answer in sent]
    assert client.get("/api/drawings/export.zip").status_code == 403
    assert client.get(f"/api/rounds/{round_id}/export.npz").status_code == 403


def test_the_prompt_reads_as_english(client):
    assert start(client, kind="digit", digit=8).get_json()["prompt"] == "Draw an 8"
    round_id = client.get("/api/rounds/current").get_json()["id"]
    client.post(f"/api/rounds/{round_id}/end", headers=TEACHER)
    assert start(client, kind="any").get_json()["prompt"] == "Draw any digit"


def test_a_drawing_read_while_the_round_ends_is_not_kept_in_it(client, mnist):
    """The round is checked again in the transaction that keeps the drawing: the models take tens of
    milliseconds to read it, and the teacher may press End meanwhile."""
    from webapp.store.drawings import NewDrawing
    from webapp.store.refusals import StoreRefused
    from webapp.store.rounds import Rounds

    round_id = start(client, kind="digit", digit=5).get_json()["id"]
    client.post(f"/api/rounds/{round_id}/end", headers=TEACHER)
    rounds = Rounds(client.application.extensions["store"])
    with pytest.raises(StoreRefused) as refused:
        rounds.add_drawing(NewDrawing(image=b"png", pixels=mnist.x_test[0], label=5, round_id=round_id))
    assert refused.value.status == 409
    assert client.get("/api/drawings").get_json()["total"] == 0


def test_only_a_device_that_kept_its_nickname_is_counted_and_a_stranger_writes_nothing(client):
    round_id = start(client, kind="any").get_json()["id"]
    for _ in range(5):   # no cookie kept: a script
        client.application.test_client().get("/api/rounds/current")
    assert client.get(f"/api/rounds/{round_id}", headers=TEACHER).get_json()["devices"] == 0
    phone = client.application.test_client()
    phone.get("/api/rounds/current")   # given its nickname
    phone.get("/api/rounds/current")   # kept it: counted
    assert client.get(f"/api/rounds/{round_id}", headers=TEACHER).get_json()["devices"] == 1


def test_drawings_deleted_outside_the_wall_leave_every_wall_too(client, mnist):
    round_id = start(client, kind="digit", digit=6).get_json()["id"]
    ids = [send(client, round_id, png).get_json()["id"] for png in digits_of(mnist, 6, 3)]
    assert client.delete(f"/api/drawings/{ids[0]}", headers=TEACHER).status_code == 204
    listed = client.get(f"/api/rounds/{round_id}/drawings", headers=TEACHER).get_json()
    assert listed["hidden"] == [ids[0]]
    client.delete("/api/drawings", headers=TEACHER)
    assert sorted(client.get(f"/api/rounds/{round_id}/drawings", headers=TEACHER).get_json()["hidden"]) == ids


def test_students_do_not_see_the_rounds_drawings_on_the_drawings_page_and_the_teacher_does(client, mnist):
    outside = post_image(client, digits_of(mnist, 2, 1, skip=5)[0], "/api/feedback", label="2").get_json()["id"]
    round_id = start(client, kind="digit", digit=3).get_json()["id"]
    sent = [send(client, round_id, png).get_json()["id"] for png in digits_of(mnist, 3, 2, skip=5)]
    student = client.get("/api/drawings").get_json()
    assert [item["id"] for item in student["items"]] == [outside] and student["total"] == 1
    polled = client.get("/api/drawings?after=0").get_json()
    assert [item["id"] for item in polled["items"]] == [outside] and polled["total"] == 1
    assert polled["label_counts"][3] == 0 and polled["label_counts"][2] == 1
    page = client.get("/drawings").data.decode()
    assert f'data-id="{outside}"' in page and not any(f'data-id="{drawing}"' in page for drawing in sent)


@pytest.mark.parametrize("path", ["/api/rounds/99999999999999999999", "/api/rounds/-1/end", "/api/rounds/abc"])
def test_a_round_id_that_is_no_round_is_a_404_sentence(client, path):
    response = client.get(path, headers=TEACHER) if "end" not in path else client.post(path, headers=TEACHER)
    assert response.status_code == 404 and response.get_json()["error"]


def test_strangers_fields_get_clear_answers(client, seven):
    round_id = start(client, kind="any").get_json()["id"]
    for label in ("x" * 100_000, "12", "-1", ""):
        answer = send(client, round_id, seven, label=label)
        assert answer.status_code in (400, 413) and answer.get_json()["error"]
    for given in ("abc", "9" * 30, "-5"):
        stream = client.get(f"/api/rounds/{round_id}/events", headers={**TEACHER, "Last-Event-ID": given})
        assert stream.status_code == 400 and "Last-Event-ID" in stream.get_json()["error"]
    nested = client.post("/api/rounds", data="[" * 100_000, content_type="application/json", headers=TEACHER)
    assert nested.status_code in (400, 413)
    assert send(client, round_id, b"not an image", label="4").status_code in (400, 415)


def test_the_teacher_lists_every_round_newest_first_with_what_each_kept(client, mnist):
    first = start(client, kind="digit", digit=2).get_json()["id"]
    for png in digits_of(mnist, 2, 2, skip=10):
        send(client, first, png)
    client.post(f"/api/rounds/{first}/end", headers=TEACHER)
    second = start(client, kind="any").get_json()["id"]
    listed = client.get("/api/rounds", headers=TEACHER).get_json()
    assert [(found["id"], found["sent"], found["state"]) for found in listed] == [(second, 0, "open"),
                                                                                 (first, 2, "ended")]
    assert client.get("/api/rounds").status_code == 403
