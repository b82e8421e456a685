"""Teacher mode over HTTP: signing in with the token, the session cookie, CSRF and same-origin checks, collecting
on/off, deleting one drawing or all, the original image, and a student's undo of their own answer.

The real app with the shipped models and a real SQLite file; the one fake is a clock moved forward for the
expired session and the expired undo (time cannot be made to pass otherwise in a test).
"""

from __future__ import annotations

import logging
import re
import time

import pytest
from itsdangerous import TimestampSigner

from support import TEACHER_TOKEN, digit_pngs, make_app, number_png, post_image

COOKIE = "digitdraw_teacher"


def csrf_from(html: bytes) -> str:
    found = re.search(rb'name="csrf[-_]token" (?:value|content)="([^"]+)"', html)
    assert found, "the page carries a CSRF token"
    return found.group(1).decode()


def sign_in(client, token: str = TEACHER_TOKEN):
    form_token = csrf_from(client.get("/teacher").data)
    return client.post("/teacher/sign-in", data={"token": token, "csrf_token": form_token, "next": "/drawings"},
                       headers={"Sec-Fetch-Site": "same-origin"})


def teacher_headers(client) -> dict:
    """What the signed-in teacher's page sends with a change: its CSRF token, from this site's own page."""
    return {"X-CSRFToken": csrf_from(client.get("/teacher").data), "Sec-Fetch-Site": "same-origin"}


def save_drawing(client, png: bytes, label: int = 7):
    response = post_image(client, png, "/api/feedback", label=str(label))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_signing_in_sets_a_strict_httponly_session_and_shows_the_teacher_page(client):
    assert b"Sign in as the teacher" in client.get("/teacher").data
    response = sign_in(client)
    assert response.status_code == 303 and response.headers["Location"] == "/drawings"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Expires=" in cookie   # lasts TEACHER_SESSION_HOURS, not only until the browser closes
    signed_in = client.get("/teacher")
    assert b"Collecting drawings" in signed_in.data and b"Sign out" in signed_in.data
    assert TEACHER_TOKEN.encode() not in cookie.encode() and TEACHER_TOKEN.encode() not in signed_in.data


def test_a_wrong_token_is_refused_and_logged_without_the_token(client, caplog):
    caplog.set_level(logging.WARNING, logger="digitdraw")
    wrong = "not-the-teacher-token-at-all"
    response = sign_in(client, wrong)
    assert response.status_code == 403
    assert b"That is not the teacher&#39;s token." in response.data
    assert "teacher sign-in refused: a wrong token from 127.0.0.1" in caplog.text
    assert wrong not in caplog.text and TEACHER_TOKEN not in caplog.text
    assert b"Collecting drawings" not in client.get("/teacher").data


def test_signing_in_needs_the_forms_csrf_token_and_this_sites_page(client):
    refused = client.post("/teacher/sign-in", data={"token": TEACHER_TOKEN})
    assert refused.status_code == 400 and b"out of date" in refused.data
    form_token = csrf_from(client.get("/teacher").data)
    cross_site = client.post("/teacher/sign-in", data={"token": TEACHER_TOKEN, "csrf_token": form_token},
                             headers={"Sec-Fetch-Site": "cross-site"})
    assert cross_site.status_code == 403
    assert b"Collecting drawings" not in client.get("/teacher").data


def test_after_signing_in_only_a_local_path_is_followed(client):
    form_token = csrf_from(client.get("/teacher").data)
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        response = client.post("/teacher/sign-in", data={"token": TEACHER_TOKEN, "csrf_token": form_token,
                                                         "next": target})
        assert response.status_code == 303 and response.headers["Location"] == "/teacher", target
        form_token = csrf_from(client.get("/teacher").data)


@pytest.mark.parametrize("target", ["/a\nb", "/a\rSet-Cookie: x=1", "/caf\u00e9", "/" + "a" * 600])
def test_a_next_address_a_redirect_cannot_carry_goes_to_the_teacher_page(client, target):
    form_token = csrf_from(client.get("/teacher").data)
    response = client.post("/teacher/sign-in", data={"token": TEACHER_TOKEN, "csrf_token": form_token,
                                                     "next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/teacher"


def test_teacher_mode_works_over_https_without_a_referer(client, seven):
    """Pages send no Referer (Referrer-Policy: no-referrer); Flask-WTF must not demand one over https."""
    https = {"base_url": "https://draw.school.example"}
    form_token = csrf_from(client.get("/teacher", **https).data)
    signed_in = client.post("/teacher/sign-in", data={"token": TEACHER_TOKEN, "csrf_token": form_token},
                            headers={"Sec-Fetch-Site": "same-origin"}, **https)
    assert signed_in.status_code == 303
    headers = {"X-CSRFToken": csrf_from(client.get("/teacher", **https).data), "Sec-Fetch-Site": "same-origin"}
    response = client.post("/api/classroom", json={"collecting": False}, headers=headers, **https)
    assert response.status_code == 200, response.get_json()


def test_an_origin_allowed_to_call_the_api_cannot_act_for_the_teacher(tmp_path):
    client = make_app(tmp_path / "d.sqlite", CORS_ORIGINS=("https://lms.example",)).test_client()
    sign_in(client)
    from_platform = {**teacher_headers(client), "Origin": "https://lms.example", "Sec-Fetch-Site": "cross-site"}
    refused = client.post("/api/classroom", json={"collecting": False}, headers=from_platform)
    assert refused.status_code == 403 and "own pages" in refused.get_json()["error"]
    assert client.delete("/api/drawings", headers=from_platform).status_code == 403
    assert client.get("/api/classroom").get_json() == {"collecting": True, "language": None}


def test_signing_out_needs_the_forms_csrf_token(client):
    sign_in(client)
    refused = client.post("/teacher/sign-out", headers={"Sec-Fetch-Site": "same-origin"})
    assert refused.status_code == 400
    assert b"Collecting drawings" in client.get("/teacher").data


def test_teacher_mode_is_off_without_a_token(tmp_path):
    client = make_app(tmp_path / "d.sqlite", TEACHER_TOKEN=None).test_client()
    assert b"Teacher mode is off" in client.get("/teacher").data
    refused = client.post("/api/classroom", json={"collecting": False})
    assert refused.status_code == 403 and "DIGITDRAW_TEACHER_TOKEN" in refused.get_json()["error"]


def test_the_signed_in_teacher_deletes_one_drawing_and_sees_its_original(client, mnist):
    seven, another_seven = digit_pngs(mnist, 7, 2)
    kept = save_drawing(client, seven)["id"]
    other = save_drawing(client, another_seven)["id"]
    assert client.get(f"/api/drawings/{kept}/original").status_code == 403   # a student may not
    assert b'data-action="delete"' not in client.get("/drawings").data
    sign_in(client)
    drawings_page = client.get("/drawings").data
    assert b'data-action="delete"' in drawings_page and b'data-action="original"' in drawings_page
    original = client.get(f"/api/drawings/{kept}/original")
    assert original.status_code == 200 and original.mimetype == "image/png"
    assert original.data.startswith(b"\x89PNG") and original.headers["Cache-Control"] == "private, no-store"
    assert client.get("/api/drawings/999/original").status_code == 404
    assert client.delete(f"/api/drawings/{kept}", headers=teacher_headers(client)).status_code == 204
    assert [item["id"] for item in client.get("/api/drawings").get_json()["items"]] == [other]


def test_a_teacher_change_needs_the_pages_csrf_token_and_this_sites_page(client, seven):
    drawing = save_drawing(client, seven)["id"]
    sign_in(client)
    no_token = client.delete(f"/api/drawings/{drawing}", headers={"Sec-Fetch-Site": "same-origin"})
    assert no_token.status_code == 403 and "security token" in no_token.get_json()["error"]
    wrong_token = client.delete(f"/api/drawings/{drawing}",
                                headers={"X-CSRFToken": "forged", "Sec-Fetch-Site": "same-origin"})
    assert wrong_token.status_code == 403
    cross_site = client.post("/api/classroom", json={"collecting": False},
                             headers={**teacher_headers(client), "Sec-Fetch-Site": "same-site"})
    assert cross_site.status_code == 403 and "another site" in cross_site.get_json()["error"]
    assert client.get("/api/classroom").get_json() == {"collecting": True, "language": None}
    assert client.get("/api/drawings").get_json()["total"] == 1


def test_clearing_every_drawing_empties_the_store_and_its_scores(client, seven, app, mnist):
    for drawing in digit_pngs(mnist, 7, 3):
        save_drawing(client, drawing)
    assert client.delete("/api/drawings").status_code == 403
    sign_in(client)
    response = client.delete("/api/drawings", headers=teacher_headers(client))
    assert response.status_code == 200 and response.get_json() == {"deleted": 3}
    store = app.extensions["store"]
    assert store.count() == 0 and not store.confusion(("cnn", app.extensions["models"].get("cnn").version)).any()
    assert save_drawing(client, seven)["id"] == 4   # ids are never reused: an old link names no new drawing


def test_collecting_off_hides_the_controls_and_the_api_refuses_for_every_student(client, seven, app):
    student = app.test_client()
    assert b'id="feedback"' in student.get("/").data and b'aria-labelledby="feedback-title" hidden' not in \
        student.get("/").data
    sign_in(client)
    response = client.post("/api/classroom", json={"collecting": False}, headers=teacher_headers(client))
    assert response.status_code == 200 and response.get_json() == {"collecting": False, "language": None}
    assert student.get("/api/classroom").get_json() == {"collecting": False, "language": None}
    assert b'aria-labelledby="feedback-title" hidden' in student.get("/").data
    refused = post_image(student, seven, "/api/feedback", label="7")
    assert refused.status_code == 403
    assert refused.get_json() == {"error": "The teacher has turned collecting drawings off, so answers are not "
                                           "kept now."}
    assert app.extensions["store"].count() == 0
    client.post("/api/classroom", json={"collecting": True}, headers=teacher_headers(client))
    assert post_image(student, seven, "/api/feedback", label="7").status_code == 201


def test_collecting_is_shared_by_every_app_on_the_same_store(database, seven):
    """Another worker or instance reads the teacher's choice from the store, not from its own memory."""
    shared = database("shared")
    first, second = (make_app(shared).test_client() for _ in range(2))
    sign_in(first)
    first.post("/api/classroom", json={"collecting": False}, headers=teacher_headers(first))
    assert second.get("/api/classroom").get_json() == {"collecting": False, "language": None}
    assert post_image(second, seven, "/api/feedback", label="7").status_code == 403


@pytest.mark.parametrize("body", [None, {}, {"collecting": "no"}, {"collecting": 0}, [True]])
def test_a_bad_collecting_body_is_a_400(client, body):
    sign_in(client)
    response = client.post("/api/classroom", json=body, headers=teacher_headers(client))
    assert response.status_code == 400
    assert response.get_json()["error"] == 'Send JSON such as {"collecting": false} or {"language": "de"}.'


def test_a_script_with_the_token_needs_no_session(client, seven):
    drawing = save_drawing(client, seven)["id"]
    assert client.post("/api/classroom", json={"collecting": False},
                       headers={"Authorization": f"Bearer {TEACHER_TOKEN}"}).status_code == 200
    wrong = client.delete(f"/api/drawings/{drawing}", headers={"Authorization": "Bearer not-the-right-token-1"})
    assert wrong.status_code == 403 and wrong.get_json()["error"] == \
        "Deleting a drawing needs the teacher's token, and this one is wrong."


def test_signing_out_ends_the_session(client):
    sign_in(client)
    form_token = csrf_from(client.get("/teacher").data)
    response = client.post("/teacher/sign-out", data={"csrf_token": form_token},
                           headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 303
    assert b"Sign in as the teacher" in client.get("/teacher").data
    refused = client.post("/api/classroom", json={"collecting": False})
    assert refused.status_code == 403 and "sign in on the teacher page" in refused.get_json()["error"]


def sign_out(client, everywhere: bool = False):
    form_token = csrf_from(client.get("/teacher").data)
    return client.post("/teacher/sign-out-everywhere" if everywhere else "/teacher/sign-out",
                       data={"csrf_token": form_token}, headers={"Sec-Fetch-Site": "same-origin"})


def copy_of(client, app):
    """Another browser holding a copy of `client`'s teacher cookie (sniffed on a classroom's plain-HTTP wifi)."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, client.get_cookie(COOKIE).value)
    return thief


def test_a_cookie_copied_before_signing_out_is_refused_afterwards(database):
    app = make_app(database())
    client = app.test_client()
    sign_in(client)
    headers = teacher_headers(client)   # the page's CSRF token, copied with the cookie
    thief = copy_of(client, app)
    assert thief.get("/api/finetune").status_code == 204   # the copy works while the teacher is signed in
    assert sign_out(client).status_code == 303
    watching = thief.get("/api/finetune")
    assert watching.status_code == 403 and "sign in on the teacher page" in watching.get_json()["error"]
    changing = thief.post("/api/classroom", json={"collecting": False}, headers=headers)
    assert changing.status_code == 403 and "sign in on the teacher page" in changing.get_json()["error"]
    assert b"Sign in as the teacher" in thief.get("/teacher").data
    assert client.get("/api/classroom").get_json() == {"collecting": True, "language": None}


def test_signing_out_everywhere_ends_every_other_browsers_session_on_every_worker(database):
    """Two apps on one store are two workers or instances: the other browser is signed out on both."""
    shared = database("shared")
    first, second = make_app(shared), make_app(shared)
    here, there = first.test_client(), second.test_client()
    sign_in(here)
    sign_in(there)
    signed_in_page = here.get("/teacher").data
    assert b"Sign out everywhere" in signed_in_page and b"a copied cookie too" in signed_in_page
    assert sign_out(here, everywhere=True).status_code == 303
    for browser in (there, copy_of(there, first), here):   # the other browser, on either worker, and this one
        assert b"Sign in as the teacher" in browser.get("/teacher").data
        assert browser.get("/api/finetune").status_code == 403
    sign_in(there)   # a new sign-in is a new session
    assert there.get("/api/finetune").status_code == 204


def test_signing_out_everywhere_needs_the_signed_in_teacher_and_the_forms_token(client):
    form_token = csrf_from(client.get("/teacher").data)
    stranger = client.post("/teacher/sign-out-everywhere", data={"csrf_token": form_token},
                           headers={"Sec-Fetch-Site": "same-origin"})
    assert stranger.status_code == 403 and b"Only the signed-in teacher" in stranger.data
    sign_in(client)
    no_token = client.post("/teacher/sign-out-everywhere", headers={"Sec-Fetch-Site": "same-origin"})
    assert no_token.status_code == 400 and b"Collecting drawings" in client.get("/teacher").data


def test_a_sign_in_or_out_the_store_cannot_record_is_refused_with_a_sentence(client, monkeypatch):
    from webapp.store.refusals import StoreUnavailable
    from webapp.store.teacher_sessions import TeacherSessions

    def unavailable(*_args):
        raise StoreUnavailable("The drawings store is busy; please try again in a moment.")

    monkeypatch.setattr(TeacherSessions, "start", unavailable)
    refused = sign_in(client)
    assert refused.status_code == 503 and b"The sign-in cannot be recorded right now" in refused.data
    monkeypatch.undo()
    sign_in(client)
    monkeypatch.setattr(TeacherSessions, "end", unavailable)
    kept = sign_out(client)
    assert kept.status_code == 503 and b"Signing out could not be recorded" in kept.data
    assert b"Collecting drawings" in client.get("/teacher").data   # still signed in: try again


def test_a_students_request_never_reaches_the_store(client, monkeypatch):
    """The session check reads the store only for a browser with the teacher's cookie."""
    from webapp.store.teacher_sessions import TeacherSessions

    def must_not_be_called(*_args):
        raise AssertionError("a student's request read the teacher sessions")

    monkeypatch.setattr(TeacherSessions, "is_live", must_not_be_called)
    for path in ("/", "/teacher", "/drawings", "/api/classroom"):
        assert client.get(path).status_code == 200, path
    assert client.get("/api/finetune").status_code == 403


PRIVATE = {"Cache-Control": "private, no-store", "Cross-Origin-Resource-Policy": "same-origin"}
BEARER = {"Authorization": f"Bearer {TEACHER_TOKEN}"}
# What the signed-in teacher's browser (or a script with the token) is answered, given the client and a drawing.
TEACHER_ANSWERS = {
    "teacher page": lambda c, d: c.get("/teacher"),
    "drawings page": lambda c, d: c.get("/drawings"),
    "drawing page for the teacher": lambda c, d: c.get("/"),
    "evaluation page for the teacher": lambda c, d: c.get("/evaluation"),
    "drawings listing": lambda c, d: c.get("/api/drawings"),
    "drawings since": lambda c, d: c.get("/api/drawings?after=0"),
    "the original image": lambda c, d: c.get(f"/api/drawings/{d}/original"),
    "the original image to a script": lambda c, d: c.get(f"/api/drawings/{d}/original", headers=BEARER),
    "fine-tuning's progress": lambda c, d: c.get("/api/finetune"),
    "fine-tuning's readiness": lambda c, d: c.get("/api/finetune/readiness"),
    "collecting changed": lambda c, d: c.post("/api/classroom", json={"collecting": True}, headers=teacher_headers(c)),
    "a change refused": lambda c, d: c.post("/api/classroom", json={}, headers=teacher_headers(c)),
    "a drawing deleted": lambda c, d: c.delete(f"/api/drawings/{d}", headers=teacher_headers(c)),
    "signed out": lambda c, d: sign_out(c),
}


@pytest.mark.parametrize("ask", TEACHER_ANSWERS.values(), ids=TEACHER_ANSWERS.keys())
def test_every_answer_made_for_the_teacher_is_kept_by_no_cache_and_embedded_by_no_other_origin(client, seven, ask):
    drawing = save_drawing(client, seven)["id"]
    sign_in(client)
    answer = ask(client, drawing)
    assert answer.status_code < 500
    assert {name: answer.headers.get(name) for name in PRIVATE} == PRIVATE


@pytest.mark.parametrize("path", ["/teacher", "/drawings", "/api/drawings"])
def test_the_sign_in_form_and_the_class_drawings_are_private_for_students_too(client, path):
    answer = client.get(path)
    assert answer.status_code == 200 and {name: answer.headers.get(name) for name in PRIVATE} == PRIVATE


@pytest.mark.parametrize("path", ["/", "/evaluation", "/api/models", "/api/classroom", "/static/css/base.css"])
def test_what_every_student_is_answered_stays_cacheable_and_embeddable(client, path):
    answer = client.get(path)
    assert answer.status_code == 200
    assert "Cross-Origin-Resource-Policy" not in answer.headers and "no-store" not in answer.headers.get(
        "Cache-Control", "")


def test_a_new_token_signs_every_teacher_out(tmp_path):
    secret = "the-same-secret-key-on-both-apps"
    old = make_app(tmp_path / "d.sqlite", SECRET_KEY=secret).test_client()
    sign_in(old)
    cookie = old.get_cookie(COOKIE)
    restarted = make_app(tmp_path / "d.sqlite", SECRET_KEY=secret,
                         TEACHER_TOKEN="a-brand-new-teacher-token").test_client()
    restarted.set_cookie(COOKIE, cookie.value)
    assert b"Sign in as the teacher" in restarted.get("/teacher").data


def test_an_expired_session_is_signed_out_with_fake_clock(client, monkeypatch):
    sign_in(client)
    hours = client.application.config["TEACHER_SESSION_HOURS"]
    real_time = time.time
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(real_time() + hours * 3600 + 60))
    page = client.get("/teacher")
    assert b"Sign in as the teacher" in page.data
    refused = client.post("/api/classroom", json={"collecting": False})
    assert refused.status_code == 403 and f"a sign-in lasts {hours:g} hours" in refused.get_json()["error"]


def test_a_busy_teacher_is_still_signed_out_after_the_sessions_hours_with_fake_clock(client, monkeypatch):
    """Requests do not push the end back: the sign-in time in the session decides."""
    import webapp.http.teacher as teacher
    sign_in(client)
    hours = client.application.config["TEACHER_SESSION_HOURS"]
    real_time = time.time
    for elapsed_hours in range(1, int(hours)):   # a request every hour keeps nothing alive
        monkeypatch.setattr(teacher.time, "time", lambda h=elapsed_hours: real_time() + h * 3600)
        assert b"Collecting drawings" in client.get("/teacher").data
    monkeypatch.setattr(teacher.time, "time", lambda: real_time() + hours * 3600 + 60)
    assert b"Sign in as the teacher" in client.get("/teacher").data


def test_without_a_secret_key_setting_every_app_on_the_store_shares_one(database):
    """Workers, instances and restarts that share the drawings store sign alike: a sign-in holds across them."""
    shared = database("shared")
    first = make_app(shared).test_client()
    sign_in(first)
    restarted = make_app(shared).test_client()
    restarted.set_cookie(COOKIE, first.get_cookie(COOKIE).value)
    assert b"Collecting drawings" in restarted.get("/teacher").data
    elsewhere = make_app(database("other")).test_client()
    elsewhere.set_cookie(COOKIE, first.get_cookie(COOKIE).value)
    assert b"Sign in as the teacher" in elsewhere.get("/teacher").data


def test_a_student_takes_back_their_own_answer_once(client, app, mnist):
    seven, another_seven = digit_pngs(mnist, 7, 2)
    saved = save_drawing(client, seven)
    assert saved["undo_seconds"] == 60
    other = save_drawing(client, another_seven)
    response = client.post("/api/feedback/undo", data={"undo": saved["undo"]})
    assert response.status_code == 200 and response.get_json() == {"deleted": [saved["id"]]}
    again = client.post("/api/feedback/undo", data={"undo": saved["undo"]})
    assert again.status_code == 404 and again.get_json()["error"] == "This answer was already taken back or deleted."
    assert [d.id for d in app.extensions["store"].page(10)] == [other["id"]]


def test_a_number_is_taken_back_whole(client, app, mnist):
    saved = post_image(client, number_png(mnist, [1, 2]), "/api/feedback", mode="number",
                       label=f"{mnist.y_test[1]}{mnist.y_test[2]}").get_json()
    assert len(saved["ids"]) == 2
    response = client.post("/api/feedback/undo", data={"undo": saved["undo"]})
    assert response.get_json() == {"deleted": saved["ids"]} and app.extensions["store"].count() == 0


@pytest.mark.parametrize("token", ["", "garbage", "WzFd.awPsHg.BUDp5H1OxQukU0xcJzzMW-ufVjo"])
def test_a_forged_undo_token_is_a_400(client, seven, token):
    save_drawing(client, seven)
    response = client.post("/api/feedback/undo", data={"undo": token})
    assert response.status_code == 400 and response.get_json()["error"] == \
        "Send the `undo` token the saved answer came with."
    assert client.get("/api/drawings").get_json()["total"] == 1


def test_an_undo_after_its_minute_is_refused_with_fake_clock(client, seven, monkeypatch):
    saved = save_drawing(client, seven)
    real_time = time.time
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(real_time() + 61))
    response = client.post("/api/feedback/undo", data={"undo": saved["undo"]})
    assert response.status_code == 403 and "Too late to undo" in response.get_json()["error"]
    assert client.get("/api/drawings").get_json()["total"] == 1


def test_sign_in_attempts_are_rate_limited(tmp_path):
    client = make_app(tmp_path / "d.sqlite", RATELIMIT_ENABLED=True).test_client()
    form_token = csrf_from(client.get("/teacher").data)
    statuses = [client.post("/teacher/sign-in", data={"token": "a-wrong-token-guess-00", "csrf_token": form_token}
                            ).status_code for _ in range(8)]
    assert statuses[:5] == [403] * 5 and statuses[5:] == [429] * 3
