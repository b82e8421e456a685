"""GET /api/drawings?after=<id>: what a page following the collection asks every few seconds.

It answers only the drawings newer than the page's newest, plus the counts and scores the page shows
beside them, read from the counters every write keeps, so a poll stays cheap at 100,000 drawings.
Runs on a SQLite file and on PostgreSQL.
"""

import numpy as np
import pytest

from support import TEACHER_TOKEN, make_app, save_digits
from webapp.store import drawing_scores
from webapp.store.drawings import NewDrawing, Store


@pytest.fixture()
def app(database):
    return make_app(database())


def test_a_poll_answers_only_the_newer_drawings_with_the_pages_counts_and_scores(app, client, mnist):
    first = save_digits(client, mnist, range(6))
    newer = save_digits(client, mnist, range(6, 10))
    answer = client.get(f"/api/drawings?after={first[-1]}").get_json()
    assert [item["id"] for item in answer["items"]] == newer[::-1]
    assert answer["more"] is False and answer["total"] == 10 and answer["offset"] == 0
    assert answer["label_counts"] == np.bincount(mnist.y_test[:10], minlength=10).tolist()
    store, registry = app.extensions["store"], app.extensions["models"]
    expected = drawing_scores.scores(store, registry)
    assert [(s["name"], s["read"], s["drawings"], s["errors"], s["accuracy"], s["confusion_matrix"])
            for s in answer["scores"]] == [(s.name, s.read, s.drawings, s.errors, s.accuracy, s.confusion_matrix)
                                           for s in expected]
    assert client.get(f"/api/drawings?after={newer[-1]}").get_json()["items"] == []


def test_a_poll_keeps_to_the_label_filter(client, mnist):
    ids = save_digits(client, mnist, range(12))
    sevens = [drawing_id for drawing_id, label in zip(ids, mnist.y_test[:12]) if label == 7]
    answer = client.get(f"/api/drawings?after={ids[0]}&label=7").get_json()
    assert [item["id"] for item in answer["items"]] == [i for i in sevens[::-1] if i > ids[0]]
    assert answer["total"] == len(sevens) and answer["label"] == 7


def test_a_poll_says_when_more_arrived_than_it_answers(client, mnist):
    ids = save_digits(client, mnist, range(5))
    answer = client.get(f"/api/drawings?after={ids[0]}&limit=2").get_json()
    assert [item["id"] for item in answer["items"]] == ids[:-3:-1] and answer["more"] is True


def test_a_poll_counts_deletions(client, mnist):
    ids = save_digits(client, mnist, range(4))
    assert client.delete(f"/api/drawings/{ids[1]}", headers={"X-Delete-Token": TEACHER_TOKEN}).status_code == 204
    answer = client.get(f"/api/drawings?after={ids[-1]}").get_json()
    assert answer["total"] == 3 and sum(answer["label_counts"]) == 3
    assert all(score["read"] == 3 for score in answer["scores"])


def test_a_poll_never_reads_every_drawing(client, mnist, monkeypatch):
    """Counting rows (count(*), GROUP BY label) reads every drawing or its index entry: 100,000 of them at the
    quota. While a loaded model has read every drawing its confusion counts give the labels' counts."""
    ids = save_digits(client, mnist, range(5))

    def reads_every_drawing(*args, **kwargs):
        raise AssertionError("a poll read every drawing")

    monkeypatch.setattr(Store, "count", reads_every_drawing)
    monkeypatch.setattr(Store, "label_counts", reads_every_drawing)
    answer = client.get(f"/api/drawings?after={ids[2]}")
    assert answer.status_code == 200
    assert answer.get_json()["total"] == 5 and sum(answer.get_json()["label_counts"]) == 5


def test_the_label_counts_are_right_while_no_model_has_read_every_drawing(app, client, mnist):
    ids = save_digits(client, mnist, range(3))
    app.extensions["store"].add(NewDrawing(image=b"png", pixels=np.zeros((28, 28), np.uint8), label=3))
    answer = client.get(f"/api/drawings?after={ids[-1]}").get_json()
    expected = np.bincount([*mnist.y_test[:3], 3], minlength=10).tolist()
    assert answer["label_counts"] == expected and answer["total"] == 4
    assert [item["label"] for item in answer["items"]] == [3]


@pytest.mark.parametrize("after", ["x", "-1", "1.5", str(2**63)])
def test_a_bad_after_is_a_400_sentence(client, after):
    response = client.get(f"/api/drawings?after={after}")
    assert response.status_code == 400 and "`after`" in response.get_json()["error"]


def test_without_after_the_listing_is_as_before(client, mnist):
    save_digits(client, mnist, range(3))
    answer = client.get("/api/drawings").get_json()
    assert set(answer) == {"items", "total", "limit", "offset", "label"}
