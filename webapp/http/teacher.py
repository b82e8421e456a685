"""Teacher mode: the teacher signs in on the pages with the token and moderates from the browser.

Signing in stores a mark, the time and a random session id in Flask's signed
session cookie (`HttpOnly`, `SameSite=Strict`); the sign-in ends TEACHER_SESSION_HOURS
after it was made, however busy the teacher was, or when the teacher signs out
(here or everywhere): the id is good only while the store has its row
(webapp/store/teacher_sessions.py), so a copy of the cookie made before signing out
is refused on every worker and instance. Checking it costs a teacher's request one
read by primary key; students' pages set no cookie (only the teacher page's sign-in
form does, for its CSRF token) and never reach the store.
Every state-changing teacher request made with that cookie must come from this
app's own page (webapp/http/same_origin.py) and carry the page's CSRF token
(Flask-WTF, checked explicitly here: the rest of the API has no cookies to
abuse). Scripts keep using `Authorization: Bearer <token>`, which no page of
another site can send for a teacher. The mark holds a fingerprint of the token,
so changing DIGITDRAW_TEACHER_TOKEN signs every teacher out.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import secrets
import time
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf.csrf import CSRFError, CSRFProtect

from webapp.http import token_guesses
from webapp.http.errors import ApiError, sentence_in_words
from webapp.http.language import number
from webapp.http.requests import json_body
from webapp.http.security import keep_private, private
from webapp.sentences import N_
from webapp.store import EXTENSION as STORE
from webapp.store import get_store
from webapp.store.classroom import Classroom
from webapp.store.held_out import MIN_HELD_OUT
from webapp.store.refusals import StoreRefused
from webapp.store.teacher_sessions import TeacherSessions
from webapp.training_tools import why_finetuning_unavailable

log = logging.getLogger("digitdraw")
bp = Blueprint("teacher", __name__)
csrf = CSRFProtect()

SESSION_MARK = "teacher"
SIGNED_IN_AT = "since"      # seconds since the epoch when the teacher signed in
SESSION_ID = "session"      # the random id of this sign-in, live while the store has its row
COLLECTING = "collecting"   # the store's classroom setting: are drawings kept ("on" / "off")


class SessionWithSharedKey(SecureCookieSessionInterface):
    """Flask's signed-cookie session. Unless DIGITDRAW_SECRET_KEY gives the key, it is made once and kept in
    the drawings store, so every worker, instance and restart that shares the store signs alike (a teacher
    stays signed in, an undo token stays good). The store is asked only when a key is first needed: a
    request without the cookie (every student's) needs none."""

    def open_session(self, app: Flask, request):
        if not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def get_signing_serializer(self, app: Flask):
        ensure_secret_key(app)
        return super().get_signing_serializer(app)


def ensure_secret_key(app: Flask | None = None) -> str:
    """The key that signs sessions, CSRF and undo tokens, fetched from the store the first time.

    While the store cannot be reached this process signs with its own key, made before gunicorn forks its
    workers, and asks the store again next time: other instances cannot read what it signs, so it must not
    keep that key once the shared one can be had (a teacher signed in meanwhile signs in again)."""
    app = app or current_app
    if not app.secret_key or app.extensions.get("signing_with_fallback"):
        try:
            app.secret_key = Classroom(app.extensions[STORE]).shared_secret()
            app.extensions["signing_with_fallback"] = False
        except StoreRefused as error:
            log.warning("no shared secret key in the drawings store (%s); signing with this process's own key "
                        "until it can be read", error)
            app.secret_key = app.extensions["fallback_secret"]
            app.extensions["signing_with_fallback"] = True
    return app.secret_key


def init_app(app: Flask) -> None:
    app.session_interface = SessionWithSharedKey()
    app.extensions["fallback_secret"] = secrets.token_hex(32)
    hours = app.config["TEACHER_SESSION_HOURS"]
    app.config.update(
        SESSION_COOKIE_NAME="digitdraw_teacher",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=(app.config.get("PUBLIC_URL") or "").startswith("https:"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=hours),
        SESSION_REFRESH_EACH_REQUEST=False,   # the cookie's end does not move on with every request
        WTF_CSRF_CHECK_DEFAULT=False,    # only the teacher's cookie-authenticated requests are checked
        WTF_CSRF_TIME_LIMIT=None,        # the token lives as long as the signed-in session
        # Over https Flask-WTF would also demand a same-site Referer, which our `Referrer-Policy:
        # no-referrer` never sends; require_same_origin() checks where a request comes from instead.
        WTF_CSRF_SSL_STRICT=False,
    )
    csrf.init_app(app)
    app.register_blueprint(bp)
    app.context_processor(lambda: {"is_teacher": is_teacher(), "teacher_mode_on": bool(teacher_token())})


def collecting() -> bool:
    """Are drawings kept? On unless the teacher turned it off; read from the store, so it holds for every
    worker and instance. A store that cannot be read does not hide the controls: saving then says why."""
    return read_classroom_setting(COLLECTING, "on") == "on"


def read_classroom_setting(name: str, default: str) -> str:
    """One of the teacher's choices for everyone, or `default` when the store cannot be read."""
    try:
        return Classroom(get_store()).setting(name, default)
    except StoreRefused:
        return default


def set_collecting(on: bool) -> None:
    Classroom(get_store()).set_setting(COLLECTING, "on" if on else "off")


def teacher_token() -> str | None:
    return current_app.config.get("TEACHER_TOKEN")


def fingerprint(token: str) -> str:
    """What the session keeps of the token: enough to notice it changed, useless to sign in with."""
    key = ensure_secret_key()
    return hmac.new(key.encode() if isinstance(key, str) else key, token.encode(), hashlib.sha256).hexdigest()[:32]


def is_teacher() -> bool:
    """True for a browser signed in with the token the server has now, less than the session's hours ago, in a
    session nobody signed out (one read of the store, asked once by a teacher check or a page's template)."""
    token = teacher_token()
    mark = session.get(SESSION_MARK) if token else None
    since, session_id = session.get(SIGNED_IN_AT), session.get(SESSION_ID)
    if not isinstance(mark, str) or not isinstance(since, int) or not isinstance(session_id, str):
        return False   # no cookie (every student): neither the key nor the store is needed
    fresh = 0 <= time.time() - since <= session_seconds()
    signed_in = fresh and hmac.compare_digest(mark, fingerprint(token)) and session_is_live(session_id)
    if signed_in:
        keep_private()   # whatever the answer, it is made for the teacher
    return signed_in


def presents_wrong_token_by_cookie() -> bool:
    """Does the request carry a signed teacher session made for another token than the server's? (A session
    that was signed out or ran out holds the right token's mark: it is refused, but it is no guess, and a
    forgotten tab polling with it must not use up its teacher's sign-ins.)"""
    mark, token = session.get(SESSION_MARK), teacher_token()
    return isinstance(mark, str) and bool(token) and not hmac.compare_digest(mark, fingerprint(token))


def session_is_live(session_id: str) -> bool:
    """Not signed out, here or everywhere. While the store cannot be read nobody is signed in by cookie (a
    session that cannot be checked may have been ended); scripts' Bearer token still works."""
    try:
        return TeacherSessions(get_store()).is_live(session_id)
    except StoreRefused as error:
        log.warning("teacher session not checked, so refused: %s", error)
        return False


def session_seconds() -> float:
    return current_app.config["TEACHER_SESSION_HOURS"] * 3600


def token_matches(given: str) -> bool:
    token = teacher_token()
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[len("Bearer "):]
    return request.headers.get("X-Delete-Token")


def require_teacher(action: str, changes_state: bool = True) -> None:
    """Let the request through only for the teacher: a script with the token, or the signed-in page
    (for a request that `changes_state`, only from this app's page with its CSRF token).

    `action` starts the refusal's sentence, e.g. "Deleting a drawing".
    """
    if not teacher_token():
        raise ApiError(403, f"{action} is turned off on this server: the teacher's token "
                            "(DIGITDRAW_TEACHER_TOKEN) is not set.")
    given = bearer_token()
    if given is not None:
        token_guesses.take_guess()
        if not token_matches(given):
            log.warning("teacher action refused: a wrong token from %s", request.remote_addr)   # never the token
            raise ApiError(403, f"{action} needs the teacher's token, and this one is wrong.")
        token_guesses.forget_guesses()
        return
    if not is_teacher():
        if presents_wrong_token_by_cookie():
            token_guesses.take_guess()
        raise ApiError(403, f"{action} needs the teacher: sign in on the teacher page ({url_for('teacher.page')}; "
                            f"a sign-in lasts {hours_text()}), or send the token as `Authorization: Bearer <token>`.")
    if not changes_state:
        return
    if not has_current_csrf_token():
        raise ApiError(403, N_("This page's security token is missing or out of date: reload the page and "
                               "try again."))


def teacher_required(action: str, changes_state: bool = True):
    """The view answers only the teacher (require_teacher), and its answers are private; `action` starts the
    refusal's sentence."""
    def decorate(view):
        @private
        @functools.wraps(view)
        def checked(*args, **kwargs):
            require_teacher(action, changes_state)
            return view(*args, **kwargs)
        return checked
    return decorate


def hours_text() -> str:
    """How long a sign-in lasts, in the page's language: "8 hours", "1 hour"; a fraction ("0.5 hours") takes the
    form of many hours (gettext chooses forms by whole numbers)."""
    hours = current_app.config["TEACHER_SESSION_HOURS"]
    form = int(hours) if float(hours).is_integer() else 100
    return ngettext("%(hours)s hour", "%(hours)s hours", form, hours=number(hours))


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site, else the teacher page."""
    return safe_path(target) or url_for("teacher.page")


def safe_path(target: str | None) -> str | None:
    """`target` when it is a path on this site only, never another site (open redirect), and nothing a
    Location header cannot carry (control characters); else None."""
    if target and len(target) <= 500 and target.isprintable() and target.isascii():
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//") \
                and "\\" not in target:
            return target
    return None


@bp.before_request
def key_for_the_forms() -> None:
    """The page's forms need the key for their CSRF token."""
    if request.endpoint == "teacher.page":
        ensure_secret_key()


@bp.get("/teacher")
@private
def page():
    return teacher_page(request.args.get("next"))


def teacher_page(next_target: str | None, **message):
    """The teacher page: the sign-in form, or the signed-in teacher's controls; `message` an error to show."""
    return render_template("teacher.html", collecting=collecting(), next=safe_next(next_target),
                           session_hours=hours_text(),
                           max_test_drop=current_app.config["FINETUNE_MAX_TEST_DROP"],
                           max_drawings_drop=current_app.config["FINETUNE_MAX_DRAWINGS_DROP"],
                           held_out_minimum=MIN_HELD_OUT, finetune_unavailable=why_finetuning_unavailable(),
                           **message)


@bp.post("/teacher/sign-in")
@private
def sign_in():
    """The token from the form; a wrong one is a 403 page (logged without the token)."""
    if not has_current_csrf_token():
        return refused_sign_in(_("The sign-in form was out of date: try again."), 400)
    if not teacher_token():
        return refused_sign_in(_("Teacher mode is off on this server: start it with DIGITDRAW_TEACHER_TOKEN set."), 403)
    try:
        token_guesses.take_guess()
        if not token_matches(request.form.get("token", "")):
            log.warning("teacher sign-in refused: a wrong token from %s", request.remote_addr)
            return refused_sign_in(_("That is not the teacher's token."), 403)
        token_guesses.forget_guesses()
    except token_guesses.TooManyGuesses as refusal:
        page, status = refused_sign_in(sentence_in_words(refusal), refusal.status)
        return page, status, {"Retry-After": str(refusal.retry_after)}
    try:
        session_id = TeacherSessions(get_store()).start(session_seconds())
    except StoreRefused as error:
        reason = sentence_in_words(error)
        return refused_sign_in(_("The sign-in cannot be recorded right now: %(reason)s", reason=reason), error.status)
    start_new_session()
    session.permanent = True
    session[SESSION_MARK] = fingerprint(teacher_token())
    session[SIGNED_IN_AT] = int(time.time())
    session[SESSION_ID] = session_id
    log.info("teacher signed in from %s", request.remote_addr)
    return redirect(safe_next(request.form.get("next")), 303)


def has_current_csrf_token() -> bool:
    """Does the request carry this session's CSRF token (form field or X-CSRFToken header)? Flask-WTF checks."""
    ensure_secret_key()
    try:
        csrf.protect()
    except CSRFError:
        return False
    return True


def start_new_session() -> None:
    """Forget everything the browser's session held, the CSRF token too (also the copy Flask-WTF keeps for
    the rest of this request, which belonged to the old session)."""
    session.clear()
    g.pop("csrf_token", None)


def refused_sign_in(message: str, status: int):
    return teacher_page(request.form.get("next"), sign_in_error=message), status


@bp.post("/teacher/sign-out")
@private
def sign_out():
    """End this browser's session in the store too, so a copy of its cookie is refused from now on."""
    if not has_current_csrf_token():
        return refused_sign_in(_("The sign-out form was out of date: reload the page and try again."), 400)
    session_id = session.get(SESSION_ID)
    if isinstance(session_id, str):
        try:
            TeacherSessions(get_store()).end(session_id)
        except StoreRefused as error:
            return refused_sign_out(error)
    start_new_session()
    return redirect(url_for("teacher.page"), 303)


@bp.post("/teacher/sign-out-everywhere")
@private
def sign_out_everywhere():
    """End every teacher session, on every browser, worker and instance: for a cookie that may have been
    copied, or a browser left signed in somewhere."""
    if not has_current_csrf_token():
        return refused_sign_in(_("The sign-out form was out of date: reload the page and try again."), 400)
    if not is_teacher():
        return refused_sign_in(_("Only the signed-in teacher can sign every teacher out."), 403)
    try:
        ended = TeacherSessions(get_store()).end_all()
    except StoreRefused as error:
        return refused_sign_out(error)
    log.info("teacher signed out everywhere from %s (%d sessions ended)", request.remote_addr, ended)
    start_new_session()
    return redirect(url_for("teacher.page"), 303)


def refused_sign_out(error: StoreRefused):
    """The browser keeps its session, still good in the store, so the teacher can sign out again once the
    store can be written: clearing only the cookie would leave any copy of it working."""
    log.warning("teacher sign-out not recorded: %s", error)
    message = _("Signing out could not be recorded, so the sign-in still counts: %(reason)s Try again in a moment.",
                reason=sentence_in_words(error))
    return teacher_page(None, sign_out_error=message), error.status


@bp.get("/api/classroom")
def classroom():
    """What every page needs to know about the teacher's choices: whether drawings are collected, and the
    class's language (null when every device chooses its own)."""
    from webapp.http.language import class_language
    return jsonify(collecting=collecting(), language=class_language())


@bp.post("/api/classroom")
@teacher_required("Changing the class's settings")
def change_classroom():
    """The teacher's choices for everyone, JSON with either or both of `{"collecting": true|false}` and
    `{"language": "de"}` (a shipped language's code; null or "" lets every device choose)."""
    from webapp.http.language import CLASS_LANGUAGE, LANGUAGES, class_language
    body = json_body()
    wanted = body.keys() & {"collecting", "language"} if isinstance(body, dict) else set()
    if not wanted or ("collecting" in wanted and not isinstance(body["collecting"], bool)):
        raise ApiError(400, 'Send JSON such as {"collecting": false} or {"language": "de"}.')
    language = body.get("language") or ""
    if "language" in wanted and (not isinstance(language, str) or language not in ("", *LANGUAGES)):
        raise ApiError(400, f"The class's language is one of {', '.join(LANGUAGES)}, or null for each device's own.")
    if "collecting" in wanted:
        set_collecting(body["collecting"])
        log.info("teacher turned collecting %s", "on" if body["collecting"] else "off")
    if "language" in wanted:
        Classroom(get_store()).set_setting(CLASS_LANGUAGE, language)
        log.info("teacher set the class's language to %s", language or "each device's own")
    return jsonify(collecting=collecting(), language=class_language())
