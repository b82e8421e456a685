"""Browser-side hardening on every response, uploads kept in memory, and no debug mode in serving.

The headers go on pages, API answers, static files and error pages alike: the
CSP allows only this origin's own scripts, styles and connections (no inline
script or style), plus `data:`/`blob:` images for the model-input previews and
canvas snapshots. No other site may show the app in a frame (clickjacking)
unless `FRAME_ANCESTORS` names it: a school's learning platform embedding the
drawing page, say. The headers are worked out once, when the app is built.
Answers holding the class's drawings or made for the teacher are private
(`keep_private`): kept by no cache and embedded by no page of another origin.
"""

from __future__ import annotations

import functools
import io
import logging

from flask import Flask, Request, Response, request

from webapp.settings import configured_origins

log = logging.getLogger("digitdraw")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


PRIVATE_HEADERS = {
    "Cache-Control": "private, no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
}


PRIVATE_ANSWER = "digitdraw.private_answer"   # this request's WSGI environ says its answer is private


def keep_private() -> None:
    """This request's answer, refusals too, gets PRIVATE_HEADERS: it holds the class's drawings or what only
    the teacher may see (a page made for the signed-in teacher carries the teacher's CSRF token). No cache may
    keep it, neither a shared computer's browser nor a proxy, and no page of another origin may embed it: the
    teacher's cookie is `SameSite=Strict`, but another port of the same host is the same site, and without
    CORP an <img> there would load a drawing's original with the cookie and learn which ids exist and their
    sizes. Kept in the request's environ, which no other request shares."""
    request.environ[PRIVATE_ANSWER] = True


def private(view):
    """Every answer of the view is private (keep_private)."""
    @functools.wraps(view)
    def answered(*args, **kwargs):
        keep_private()
        return view(*args, **kwargs)
    return answered


def add_private_headers(response: Response) -> Response:
    if request.environ.get(PRIVATE_ANSWER):
        response.headers.update(PRIVATE_HEADERS)
    return response


def security_headers(frame_ancestors: tuple[str, ...]) -> dict[str, str]:
    """The headers for every response, given the origins allowed to frame the app (none by default).

    Framing allowed: CSP `frame-ancestors 'self' <origins>` and no X-Frame-Options,
    which can only say DENY or SAMEORIGIN (current browsers ignore its ALLOW-FROM),
    so it cannot name the platform; a DENY left beside the CSP would still block it
    in browsers older than `frame-ancestors`.
    """
    if not frame_ancestors:
        framing = {"X-Frame-Options": "DENY"}
        ancestors = "frame-ancestors 'none'"
    else:
        framing = {}
        ancestors = " ".join(("frame-ancestors 'self'", *frame_ancestors))
    policy = "; ".join((*CONTENT_SECURITY_POLICY, ancestors))
    return {"Content-Security-Policy": policy, **SECURITY_HEADERS, **framing}


class InMemoryRequest(Request):
    """Uploaded files stay in memory (bounded by MAX_CONTENT_LENGTH) instead of spooling to a temp file.

    Werkzeug writes multipart files over 500 kB to disk; the predict path must never do that.
    """

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        return io.BytesIO()


def harden(app: Flask) -> None:
    app.request_class = InMemoryRequest
    forbid_debug(app)
    headers = security_headers(configured_origins(app.config.get("FRAME_ANCESTORS")))

    def add_security_headers(response: Response) -> Response:
        response.headers.update(headers)
        return response

    app.after_request(add_security_headers)
    app.after_request(add_private_headers)


def forbid_debug(app: Flask) -> None:
    """Debug mode is off whatever the configuration or environment says.

    The debugger runs code sent from the browser and shows tracebacks, so the
    app built by `create_app()` (what gunicorn serves in `make run`) never has
    it: neither `FLASK_DEBUG` nor `DIGITDRAW_DEBUG` can turn it on. The one way
    to debug is the development server on your own machine,
    `flask --app webapp run --debug`, whose command line sets `app.debug` after
    the factory has returned.
    """
    if app.config.get("DEBUG"):
        log.warning("debug mode ignored: the app never serves in debug mode; "
                    "for development use `flask --app webapp run --debug`")
    app.debug = False
