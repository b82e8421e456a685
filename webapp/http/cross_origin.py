"""Pages of other sites may call the API only when `CORS_ORIGINS` names them (Flask-Cors, on `/api/*` only).

By default there are no CORS headers at all: a browser lets a page of another
site send simple requests but never read the answers. With `CORS_ORIGINS` set,
those origins' pages (a school's learning platform, a teacher's own page) may read
the API's answers, without cookies or HTTP authentication (the API uses neither),
and see `Retry-After` when they send too fast. Preflights allow GET and POST with a
`Content-Type` (a raw `image/png` body); DELETE is not allowed, so a teacher's token
is only ever sent from this app's own pages or from a script. Saving drawings from
those origins is let through by webapp/http/same_origin.py.
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask_cors import CORS

from webapp.http.errors import API_PREFIX
from webapp.settings import configured_origins

PREFLIGHT_CACHE_SECONDS = 600


def init_app(app: Flask) -> None:
    """Normalise `CORS_ORIGINS` in the config (same_origin.py reads it) and, if any, answer them on /api/*.

    Flask-Cors would also read the config key CORS_ORIGINS by itself; it is passed
    explicitly so that what it matches is the checked list, never a pattern: an origin
    has none of the characters that make Flask-Cors treat a string as a regular expression.
    """
    allowed = app.config["CORS_ORIGINS"] = configured_origins(app.config.get("CORS_ORIGINS"))
    if not allowed:
        return
    CORS(app, resources={rf"{API_PREFIX}.*": {}}, origins=list(allowed), methods=["GET", "POST"],
         allow_headers=["Content-Type"], expose_headers=["Retry-After"], supports_credentials=False,
         max_age=PREFLIGHT_CACHE_SECONDS, always_send=False, vary_header=False)
    app.after_request(vary_by_origin)


def vary_by_origin(response: Response) -> Response:
    """Every API answer depends on `Origin` once CORS is on, also the ones without CORS headers:
    a cache must not hand an answer made for one origin (or none) to another."""
    if request.path.startswith(API_PREFIX):
        response.vary.add("Origin")
    return response
