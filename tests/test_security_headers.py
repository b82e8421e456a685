"""Security headers on every kind of response, pages that need no inline code, no debug mode, uploads in memory."""

import io
import re
from html.parser import HTMLParser

import pytest
from flask import request

from support import hostile_images as images
from support import make_app
from webapp import create_app

EXPECTED_CSP = {
    "default-src": "'self'", "script-src": "'self'", "style-src": "'self'", "img-src": "'self' data: blob:",
    "connect-src": "'self'", "object-src": "'none'", "base-uri": "'none'", "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def csp_directives(header: str) -> dict:
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


def assert_security_headers(response):
    headers = response.headers
    assert csp_directives(headers["Content-Security-Policy"]) == EXPECTED_CSP
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    assert "camera=()" in headers["Permissions-Policy"]


REQUESTS = {
    "drawing page": lambda c, png: c.get("/"),
    "evaluation page": lambda c, png: c.get("/evaluation"),
    "drawings page": lambda c, png: c.get("/drawings"),
    "stylesheet": lambda c, png: c.get("/static/css/base.css"),
    "icon": lambda c, png: c.get("/static/icon.svg"),
    "health": lambda c, png: c.get("/api/health"),
    "models": lambda c, png: c.get("/api/models"),
    "report": lambda c, png: c.get("/api/reports/mlp"),
    "prediction": lambda c, png: c.post("/api/predict", data={"image": (io.BytesIO(png), "d.png")},
                                        content_type="multipart/form-data"),
    "page 404": lambda c, png: c.get("/no-such-page"),
    "static 404": lambda c, png: c.get("/static/../webapp/__init__.py"),
    "api 404": lambda c, png: c.get("/api/no-such-endpoint"),
    "api 405": lambda c, png: c.get("/api/predict"),
    "api 413": lambda c, png: c.post("/api/predict", data=b"\0" * (9 * 1024 * 1024), content_type="image/png"),
    "api 415": lambda c, png: c.post("/api/predict", data=images.SVG, content_type="image/svg+xml"),
    "api 400": lambda c, png: c.post("/api/predict"),
}


@pytest.mark.parametrize("send", REQUESTS.values(), ids=REQUESTS.keys())
def test_every_response_carries_the_security_headers(client, seven, send):
    response = send(client, seven)
    assert_security_headers(response)
    assert response.status_code < 500


def test_error_pages_are_json_under_api_and_html_elsewhere(client):
    api = client.get("/api/no-such-endpoint")
    assert api.status_code == 404 and api.is_json and "/api/predict" in api.get_json()["error"]
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "There is no page at this address." in text and 'href="/"' in text


def test_wrong_method_names_the_allowed_one(client):
    response = client.delete("/api/predict")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert response.get_json()["error"] == "/api/predict does not accept DELETE; use POST."


class InlineCodeFinder(HTMLParser):
    """Collects what a strict CSP would block: inline scripts, style attributes and blocks, on* handlers."""

    def __init__(self):
        super().__init__()
        self.blocked: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names and dict(attrs).get("type") != "application/json":
            self.blocked.append("inline <script>")
        if tag == "style":
            self.blocked.append("<style> block")
        self.blocked += [f"{name} attribute on <{tag}>" for name in names if name == "style" or name.startswith("on")]
        self.blocked += [f"javascript: URL on <{tag}>" for _, value in attrs
                         if value and re.match(r"\s*javascript:", value, re.I)]


@pytest.mark.parametrize("page", ["/", "/evaluation", "/drawings", "/no-such-page"])
def test_pages_need_no_inline_code_the_csp_would_block(client, page):
    finder = InlineCodeFinder()
    finder.feed(client.get(page).get_data(as_text=True))
    assert finder.blocked == []


@pytest.mark.parametrize("how", ["config", "environment"])
def test_debug_mode_cannot_be_switched_on(tmp_path, monkeypatch, caplog, how):
    if how == "environment":
        monkeypatch.setenv("FLASK_DEBUG", "1")
        monkeypatch.setenv("DIGITDRAW_DEBUG", "true")
        monkeypatch.setenv("DIGITDRAW_MODEL_DIR", str(tmp_path))
        monkeypatch.setenv("DIGITDRAW_DATABASE", str(tmp_path / "drawings.sqlite"))
        app = create_app()
    else:
        app = make_app(tmp_path / "drawings.sqlite", DEBUG=True, MODEL_DIR=str(tmp_path))
    assert app.debug is False
    assert "debug mode ignored" in caplog.text


def test_uploaded_files_stay_in_memory(app):
    """Werkzeug would spool an upload over 500 kB to a temporary file; ours stays a BytesIO."""
    upload = {"image": (io.BytesIO(b"\0" * (2 * 1024 * 1024)), "big.png")}
    with app.test_request_context("/api/predict", method="POST", data=upload, content_type="multipart/form-data"):
        assert isinstance(request.files["image"].stream, io.BytesIO)


@pytest.mark.parametrize("send", [REQUESTS[name] for name in ("drawing page", "health", "models", "prediction")],
                         ids=["drawing page", "health", "models", "prediction"])
def test_only_a_refusal_says_when_to_retry(tmp_path, seven, send):
    """Flask-Limiter put `Retry-After` on every answer it counted, a 200 too; only 429 and 503 say it now."""
    limited = make_app(tmp_path / "drawings.sqlite", RATELIMIT_ENABLED=True,
                       RATELIMIT_DEFAULT="3 per minute", RATELIMIT_PREDICT="3 per minute").test_client()
    answered = send(limited, seven)
    assert answered.status_code == 200 and "Retry-After" not in answered.headers
    assert answered.headers["X-RateLimit-Limit"] == "3"   # clients that pace themselves still can
    refused = [send(limited, seven) for _ in range(3)][-1]
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    no_model = make_app(tmp_path / "other.sqlite", RATELIMIT_ENABLED=True, MODEL_DIR=str(tmp_path)).test_client()
    unavailable = no_model.get("/api/health")
    assert unavailable.status_code == 503 and int(unavailable.headers["Retry-After"]) >= 0
