"""What the server writes to its log, all through the "digitdraw" logger.

One line per request (method, path, status, milliseconds, bytes sent), one more
line for every rejected request giving the reason the client was told (never
the uploaded bytes), and at start-up one line per model that could not be
loaded. Values a client controls are JSON-quoted so they cannot forge lines, and
cut short so that a huge path or field cannot make a huge line.
"""

from __future__ import annotations

import json
import logging
import time
from http.client import responses

from flask import Flask, Response, g, request
from flask.logging import has_level_handler, wsgi_errors_stream

from webapp.http.echo import shortened

log = logging.getLogger("digitdraw")
LOGGED_PATH_CHARACTERS = 200
LOGGED_REASON_CHARACTERS = 300


def setup(app: Flask) -> None:
    """Log at INFO, to the server's error stream unless logging was configured (gunicorn configures only its own)."""
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)
    if not has_level_handler(log):
        handler = logging.StreamHandler(wsgi_errors_stream)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        log.addHandler(handler)
    app.before_request(start_timer)
    app.after_request(log_request)


def start_timer() -> None:
    g.request_started = time.perf_counter()


def quoted(text: str, limit: int) -> str:
    return shortened(text, limit, quote=json.dumps)


def log_request(response: Response) -> Response:
    elapsed_ms = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
    size = response.content_length
    log.info("request method=%s path=%s status=%d ms=%.1f bytes=%s", request.method,
             quoted(request.path, LOGGED_PATH_CHARACTERS),
             response.status_code, elapsed_ms, "-" if size is None else size)
    if 400 <= response.status_code < 500:
        log.warning("rejected status=%d path=%s reason=%s", response.status_code,
                    quoted(request.path, LOGGED_PATH_CHARACTERS),
                    quoted(rejection_reason(response), LOGGED_REASON_CHARACTERS))
    return response


def rejection_reason(response: Response) -> str:
    """The sentence the client was given, or the status phrase for pages."""
    body = response.get_json(silent=True) if response.is_json else None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return body["error"]
    return responses.get(response.status_code, "Error")


def model_problems(registry, folder) -> None:
    """One clear line per broken model file, and a loud one when nothing can answer."""
    for name, reason in sorted(registry.broken.items()):
        log.error("model %s not loaded: %s", name, reason)
    if registry.classifiers:
        log.info("models loaded from %s: %s", folder, ", ".join(registry.names))
    else:
        log.error("no working model in %s: /api/predict answers 503 until you run `make train`", folder)
