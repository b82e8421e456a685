"""Browser-side hardening on every response, uploads kept in memory, and no debug mode in serving.

The headers go on pages, API answers, static files and error pages alike: the
CSP allows only this origin's own scripts, styles and connections (no inline
script or style), plus `data:`/`blob:` images for the model-input previews and
canvas snapshots.
"""

from __future__ import annotations

import io
import logging

from flask import Flask, Request, Response

log = logging.getLogger("digitdraw")

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class InMemoryRequest(Request):
    """Uploaded files stay in memory (bounded by MAX_CONTENT_LENGTH) instead of spooling to a temp file.

    Werkzeug writes multipart files over 500 kB to disk; the predict path must never do that.
    """

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        return io.BytesIO()


def harden(app: Flask) -> None:
    app.request_class = InMemoryRequest
    forbid_debug(app)
    app.after_request(add_security_headers)


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


def add_security_headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response
