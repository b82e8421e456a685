"""Writes to the drawings store come from our own pages, or from no browser page at all.

A page on another site could otherwise post labels into the store (or delete with a
token it tricked out of someone) from every visitor's browser. Browsers say where a
request comes from: `Sec-Fetch-Site` (all current browsers) and `Origin` (older ones
too). A request without either is not a browser page's request but curl or a script,
which the API docs promise may post; a cross-site page cannot strip both headers.
When `Sec-Fetch-Site` is sent it decides alone: behind a TLS proxy without a trusted
proxy count the app sees http:// while our own page's `Origin` says https://.

The one exception, checked first: a request whose `Origin` is exactly one of
`CORS_ORIGINS` (a school's learning platform the server was told to trust) passes.
A page cannot set or forge its `Origin`, while `Sec-Fetch-Site` says only that a
request is cross-site, not which site sent it, so it cannot tell that platform from
any other site. Nothing looser than the exact origin (a prefix, a subdomain) passes.
"""

from __future__ import annotations

from flask import Flask, current_app, request

from webapp.http.errors import ApiError

OWN_SITE = ("same-origin", "none")   # `none`: typed by the person, not sent by a page
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# The blueprints whose writes change what the app keeps: drawings, model versions, the teacher's choices, rounds,
# and the language a browser keeps.
CHECKED_BLUEPRINTS = {"feedback", "versions", "teacher", "rounds", "language"}
# Writes a site named in DIGITDRAW_CORS_ORIGINS may make for its visitors (saving and taking back a drawing);
# every other checked write (deleting, the teacher's actions) only from this app's own pages.
OPEN_TO_LISTED_ORIGINS = {"feedback.add_feedback", "feedback.undo_feedback"}


def init_app(app: Flask) -> None:
    """The one check, before every request of the checked blueprints."""
    app.before_request(refuse_cross_site_writes)


def refuse_cross_site_writes() -> None:
    if request.method in SAFE_METHODS or request.blueprint not in CHECKED_BLUEPRINTS:
        return
    require_same_origin(allow_listed_origins=request.endpoint in OPEN_TO_LISTED_ORIGINS)


def require_same_origin(allow_listed_origins: bool = True) -> None:
    """A 403 sentence for a request a page of another site made the browser send, unless that
    site is one of CORS_ORIGINS and `allow_listed_origins` (saving drawings: yes; the teacher's
    actions: never)."""
    if allow_listed_origins and request.headers.get("Origin") in current_app.config.get("CORS_ORIGINS", ()):
        return
    fetched_from = request.headers.get("Sec-Fetch-Site")
    if fetched_from is not None:
        if fetched_from.lower() not in OWN_SITE:
            raise ApiError(403, "This request came from another site's page; this app takes changes only "
                             "from its own pages.")
        return
    origin = request.headers.get("Origin")
    if origin is not None and origin.lower().rstrip("/") != f"{request.scheme}://{request.host}".lower():
        raise ApiError(403, "This request came from a page of another origin; this app takes changes only "
                         "from its own pages.")
