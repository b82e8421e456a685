"""Which language a request gets: the class's, the picker's cookie, Accept-Language, English; the picker itself;
refusals in the page's language beside the stable English `error`; the catalog each page carries."""

from __future__ import annotations

import io
import json
import re

import pytest
from babel.support import Translations

from support import make_app
from webapp.http.language import COOKIE, LANGUAGES, TRANSLATIONS

SAME_SITE = {"Sec-Fetch-Site": "same-origin"}


@pytest.fixture()
def client(tmp_path):
    """A client of the real app whose every request chooses its own language. Not conftest's: pytest-flask
    pushes one request context for a whole test, and Flask-Babel keeps the first request's language in it."""
    return make_app(tmp_path / "drawings.sqlite").test_client()


def html_lang(response) -> tuple[str, str]:
    found = re.search(rb'<html lang="([^"]+)" dir="(ltr|rtl)">', response.data)
    return found.group(1).decode(), found.group(2).decode()


def page_catalog(response) -> dict:
    found = re.search(rb'<script type="application/json" id="i18n-catalog">(.*?)</script>', response.data, re.S)
    return json.loads(found.group(1))


def german(message: str) -> str:
    return Translations.load(str(TRANSLATIONS), ["de"]).gettext(message)


@pytest.mark.parametrize("header, expected", [
    ("de-DE,de;q=0.9,en;q=0.8", ("de", "ltr")),
    ("pt-BR,pt;q=0.9", ("pt-BR", "ltr")),
    ("ar-EG,ar;q=0.9", ("ar", "rtl")),
    ("fr-CA", ("fr", "ltr")),
    ("ja-JP,ja;q=0.9", ("en", "ltr")),   # not shipped: English
    ("", ("en", "ltr")),
])
def test_the_browsers_language_by_default(client, header, expected):
    assert html_lang(client.get("/", headers={"Accept-Language": header})) == expected


def test_the_pages_words_are_translated_server_side_and_in_the_catalog(client):
    page = client.get("/", headers={"Accept-Language": "de"})
    assert german("Draw").encode() in page.data and german("Draw") != "Draw"
    catalog = page_catalog(page)
    assert catalog["language"] == "de" and catalog["locale"] == "de" and catalog["direction"] == "ltr"
    assert len(catalog["messages"]) > 200 and all(text for text in catalog["messages"].values())
    assert catalog["plural"][:3] == [1, 0, 1]   # German: 0 drawings, 1 drawing, 2 drawings
    arabic = page_catalog(client.get("/", headers={"Accept-Language": "ar"}))
    assert arabic["plural"][:12] == [0, 1, 2, 3, 3, 3, 3, 3, 3, 3, 3, 4]
    assert page_catalog(client.get("/"))["messages"] == {}   # English needs none


def test_the_picker_keeps_a_language_in_a_cookie_over_the_browsers(client):
    response = client.post("/language", data={"language": "fr", "next": "/evaluation?model=cnn"},
                           headers=SAME_SITE)
    assert response.status_code == 303 and response.headers["Location"] == "/evaluation?model=cnn"
    cookie = client.get_cookie(COOKIE)
    assert cookie.value == "fr" and cookie.http_only and cookie.same_site == "Lax"
    assert html_lang(client.get("/", headers={"Accept-Language": "de"})) == ("fr", "ltr")


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x",
                                    None])
def test_the_picker_never_sends_the_browser_to_another_site(client, target):
    data = {"language": "de"} | ({"next": target} if target else {})
    assert client.post("/language", data=data, headers=SAME_SITE).headers["Location"] == "/"


@pytest.mark.parametrize("language", ["xx", "", "de" * 3000, "../../etc"])
def test_an_unknown_language_is_a_400_sentence(client, language):
    response = client.post("/language", data={"language": language}, headers=SAME_SITE)
    assert response.status_code == 400 and len(response.data) < 300
    assert response.get_json()["error"].startswith("Choose one of these languages")


def test_another_sites_page_cannot_change_the_language(client):
    response = client.post("/language", data={"language": "ar"}, headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403 and client.get_cookie(COOKIE) is None


def test_a_cookie_with_an_unknown_language_is_ignored(client):
    client.set_cookie(COOKIE, "<script>")
    assert html_lang(client.get("/", headers={"Accept-Language": "es"})) == ("es", "ltr")


def test_a_refusal_keeps_its_english_error_and_adds_the_pages_language(client):
    english = client.post("/api/predict", data=b"", content_type="image/png")
    assert english.status_code == 400 and set(english.get_json()) == {"error"}
    refused = client.post("/api/predict", data=b"", content_type="image/png", headers={"Accept-Language": "de"})
    body = refused.get_json()
    assert body["error"] == english.get_json()["error"]
    assert body["message"] == german(body["error"]) and body["message"] != body["error"]


def test_a_refusal_with_values_puts_them_into_the_translation(client, seven):
    response = client.post("/api/rounds/123456/drawings", data={"image": (io.BytesIO(seven), "drawing.png")},
                           headers={"Accept-Language": "de"})
    body = response.get_json()
    assert response.status_code == 404 and body["error"] == "There is no round 123456."
    assert body["message"] == german("There is no round %(round)s.") % {"round": 123456}


def test_every_shipped_language_is_named_in_its_own_words(client):
    listed = client.get("/api/languages", headers={"Accept-Language": "pt-BR"}).get_json()
    assert listed == {"current": "pt_BR", "language": None, "languages": LANGUAGES}
    page = client.get("/").data.decode()
    for code, name in LANGUAGES.items():
        assert f'<option value="{code}" lang="{code.replace("_", "-")}"' in page and name in page
