"""The class's language over HTTP: the signed-in teacher fixes one language for every device (POST /api/classroom),
which then wins over each browser's Accept-Language and picker cookie, on every instance sharing the store; null
gives the choice back to each device. The real app with a real SQLite file."""

from __future__ import annotations

import re

import pytest

from support import make_app
from test_teacher import sign_in, teacher_headers

FRENCH_BROWSER = {"Accept-Language": "fr-FR,fr;q=0.9"}


@pytest.fixture()
def class_app(tmp_path):
    """conftest's `app` (the real app on its own SQLite file) under another name: pytest-flask pushes one request
    context for a whole test that asks for `app` or `client`, so every request would share its `g`, and with it
    the language the first request got."""
    return make_app(tmp_path / "drawings.sqlite")


@pytest.fixture()
def teacher(class_app):
    """A browser signed in as the teacher."""
    client = class_app.test_client()
    sign_in(client)
    return client


def html_language(client, headers=None) -> tuple[str, str]:
    """The lang and dir of the drawing page's <html>, as a browser sending `headers` gets them."""
    page = client.get("/", headers=headers or {}).get_data(as_text=True)
    found = re.search(r'<html lang="([^"]+)" dir="([^"]+)">', page)
    assert found, "the page starts with <html lang=... dir=...>"
    return found.group(1), found.group(2)


def set_language(client, language):
    return client.post("/api/classroom", json={"language": language}, headers=teacher_headers(client))


def test_a_student_cannot_choose_the_class_language(class_app):
    client = class_app.test_client()
    refused = client.post("/api/classroom", json={"language": "de"}, headers={"Sec-Fetch-Site": "same-origin"})
    assert refused.status_code == 403 and "needs the teacher" in refused.get_json()["error"]
    assert client.get("/api/classroom").get_json()["language"] is None
    assert html_language(client, FRENCH_BROWSER) == ("fr", "ltr")


def test_the_teachers_language_wins_over_each_browsers_own(class_app, teacher):
    changed = set_language(teacher, "de")
    assert changed.status_code == 200 and changed.get_json()["language"] == "de"

    student = class_app.test_client()
    assert html_language(student, FRENCH_BROWSER) == ("de", "ltr")
    picked = student.post("/language", data={"language": "es", "next": "/"}, headers={"Sec-Fetch-Site": "same-origin"})
    assert picked.status_code == 303   # the header's picker keeps its choice in a cookie, which the class's wins over
    assert html_language(student, FRENCH_BROWSER) == ("de", "ltr")
    assert student.get("/api/classroom").get_json() == {"collecting": True, "language": "de"}
    assert student.get("/api/languages").get_json()["language"] == "de"

    assert set_language(teacher, "ar").status_code == 200
    assert html_language(class_app.test_client(), FRENCH_BROWSER) == ("ar", "rtl")


def test_null_gives_the_choice_back_to_each_device(class_app, teacher):
    assert set_language(teacher, "de").status_code == 200
    cleared = set_language(teacher, None)
    assert cleared.status_code == 200 and cleared.get_json()["language"] is None

    student = class_app.test_client()
    assert html_language(student, FRENCH_BROWSER) == ("fr", "ltr")
    assert html_language(student, {"Accept-Language": "pt-BR"}) == ("pt-BR", "ltr")
    languages = student.get("/api/languages", headers=FRENCH_BROWSER).get_json()
    assert languages["language"] is None and languages["current"] == "fr"


def test_a_language_that_is_not_shipped_is_refused_with_a_sentence(teacher):
    for wrong in ("klingon", "pt-BR", 7, ["de"]):
        refused = set_language(teacher, wrong)
        assert refused.status_code == 400 and refused.is_json, wrong
        assert "one of en, es, fr, de, pt_BR, ar" in refused.get_json()["error"]
    assert teacher.get("/api/classroom").get_json()["language"] is None


def test_every_instance_on_the_same_store_shows_the_teachers_language(tmp_path):
    database = tmp_path / "shared.sqlite"
    first, second = make_app(database), make_app(database)
    teacher = first.test_client()
    sign_in(teacher)
    assert set_language(teacher, "es").status_code == 200

    elsewhere = second.test_client()
    assert html_language(elsewhere, FRENCH_BROWSER) == ("es", "ltr")
    assert elsewhere.get("/api/classroom").get_json()["language"] == "es"

    assert set_language(teacher, None).status_code == 200
    assert html_language(elsewhere, FRENCH_BROWSER) == ("fr", "ltr")
