"""Embedding in a school's platform, off by default: FRAME_ANCESTORS lets named sites frame the app,
CORS_ORIGINS lets named sites' pages call /api/* and save drawings (issue "classroom-ready", item 6)."""

import io

import pytest

from support import make_app
from webapp import create_app, settings

LMS = "https://lms.school.example"
MOODLE = "https://moodle.example:8443"
OTHER = "https://evil.example"


def csp_directives(response) -> dict:
    header = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


def cors_headers(response) -> dict:
    return {name: value for name, value in response.headers.items() if name.startswith("Access-Control-")}


def embedded_app(tmp_path, **config):
    return make_app(tmp_path / "drawings.sqlite", **config)


def feedback(client, png, **headers):
    return client.post("/api/feedback", headers=headers, content_type="multipart/form-data",
                       data={"image": (io.BytesIO(png), "drawing.png"), "label": "7"})


def preflight(client, origin, path="/api/predict", method="POST"):
    return client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                         "Access-Control-Request-Headers": "content-type"})


# --- the setting -----------------------------------------------------------------------------------

def test_origins_are_written_as_browsers_send_them():
    text = f"{LMS.upper()}/ , {MOODLE}  https://lms.school.example:443,http://10.0.0.5:8080 {LMS}"
    assert settings.origins(text) == (LMS, MOODLE, "http://10.0.0.5:8080")
    assert settings.origins("  ") == ()


@pytest.mark.parametrize("bad", [
    "*", "https://*.school.example", f"{LMS}/lti", f"{LMS}?x=1", f"{LMS}#top", "ftp://files.example",
    "lms.school.example", "https://user@lms.example", "https://lms..example", "https://[::1]:8000",
    f"{LMS}:0", f"{LMS}:70000", "'self'", "null",
])
def test_anything_but_an_origin_is_refused(bad):
    with pytest.raises(ValueError, match="origins such as https://lms.example"):
        settings.origins(f"{LMS} {bad}")


@pytest.mark.parametrize("variable", ["DIGITDRAW_FRAME_ANCESTORS", "DIGITDRAW_CORS_ORIGINS"])
def test_a_bad_origin_stops_start_up_in_one_line_naming_the_variable(monkeypatch, variable):
    monkeypatch.setenv(variable, f"{LMS} https://lms.school.example/course/" + "x" * 300)
    with pytest.raises(settings.SettingError) as refused:
        create_app()
    message = str(refused.value)
    assert message.startswith(f"Bad setting {variable}: it should be origins such as ")
    assert "'https://lms.school.e...' is not one." in message
    assert "\n" not in message and len(message) < 200


def test_the_environment_sets_both(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITDRAW_DATABASE", str(tmp_path / "d.sqlite"))
    monkeypatch.setenv("DIGITDRAW_FRAME_ANCESTORS", f"{LMS},{MOODLE}")
    monkeypatch.setenv("DIGITDRAW_CORS_ORIGINS", LMS)
    app = create_app()
    assert app.config["FRAME_ANCESTORS"] == (LMS, MOODLE) and app.config["CORS_ORIGINS"] == (LMS,)
    page = app.test_client().get("/")
    assert csp_directives(page)["frame-ancestors"] == f"'self' {LMS} {MOODLE}"


# --- framing ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/api/health", "/static/css/base.css", "/no-such-page"])
def test_by_default_no_site_may_frame_the_app(client, path):
    response = client.get(path)
    assert csp_directives(response)["frame-ancestors"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", ["/", "/evaluation", "/api/health", "/static/css/base.css", "/no-such-page"])
def test_named_sites_may_frame_the_app_and_x_frame_options_is_gone(tmp_path, path):
    client = embedded_app(tmp_path, FRAME_ANCESTORS=(LMS, MOODLE)).test_client()
    response = client.get(path)
    directives = csp_directives(response)
    assert directives["frame-ancestors"] == f"'self' {LMS} {MOODLE}"
    assert directives["script-src"] == "'self'" and directives["default-src"] == "'self'"   # the rest unchanged
    assert "X-Frame-Options" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_framing_alone_opens_no_cors(tmp_path):
    client = embedded_app(tmp_path, FRAME_ANCESTORS=(LMS,)).test_client()
    assert cors_headers(client.get("/api/models", headers={"Origin": LMS})) == {}


# --- calling the API from another site -------------------------------------------------------------

@pytest.mark.parametrize("origin", [LMS, OTHER])
def test_by_default_no_page_of_another_site_may_read_the_api(client, seven, origin):
    answer = client.post("/api/predict", headers={"Origin": origin}, content_type="multipart/form-data",
                         data={"image": (io.BytesIO(seven), "drawing.png")})
    assert answer.status_code == 200 and cors_headers(answer) == {}
    assert cors_headers(preflight(client, origin)) == {}
    assert "Origin" not in answer.headers.get("Vary", "")


@pytest.fixture()
def cors_client(tmp_path):
    return embedded_app(tmp_path, CORS_ORIGINS=f"{LMS} {MOODLE}").test_client()


def test_an_allowed_origin_may_read_predictions(cors_client, seven):
    answer = cors_client.post("/api/predict", headers={"Origin": LMS}, content_type="multipart/form-data",
                              data={"image": (io.BytesIO(seven), "drawing.png")})
    assert answer.status_code == 200 and answer.get_json()["digit"] == 7
    assert answer.headers["Access-Control-Allow-Origin"] == LMS
    assert answer.headers["Access-Control-Expose-Headers"] == "Retry-After"
    assert "Access-Control-Allow-Credentials" not in answer.headers
    assert "Origin" in answer.headers["Vary"]


def test_an_allowed_origin_gets_a_preflight_answer(cors_client):
    answer = preflight(cors_client, MOODLE)
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == MOODLE
    assert set(answer.headers["Access-Control-Allow-Methods"].split(", ")) == {"GET", "POST"}
    assert answer.headers["Access-Control-Allow-Headers"].lower() == "content-type"
    assert "Access-Control-Allow-Credentials" not in answer.headers


def test_a_delete_is_not_allowed_cross_origin_even_for_an_allowed_origin(cors_client):
    """The teacher's token is only sent from this app's own pages or a script."""
    answer = preflight(cors_client, LMS, path="/api/drawings/1", method="DELETE")
    assert "Access-Control-Allow-Methods" not in answer.headers


@pytest.mark.parametrize("origin", [OTHER, "https://lms.school.example.evil.example", "http://lms.school.example",
                                    "https://lms.school.example:8443", "null"])
def test_another_origin_gets_no_cors_headers(cors_client, seven, origin):
    answer = cors_client.post("/api/predict", headers={"Origin": origin}, content_type="multipart/form-data",
                              data={"image": (io.BytesIO(seven), "drawing.png")})
    assert answer.status_code == 200 and cors_headers(answer) == {}
    assert "Origin" in answer.headers["Vary"]   # a cache must not give this answer to the allowed origin
    assert cors_headers(preflight(cors_client, origin)) == {}


@pytest.mark.parametrize("path", ["/", "/drawings", "/evaluation", "/static/css/base.css"])
def test_pages_get_no_cors_headers_even_for_an_allowed_origin(cors_client, path):
    assert cors_headers(cors_client.get(path, headers={"Origin": LMS})) == {}


def test_error_answers_carry_cors_headers_so_the_page_can_read_the_sentence(cors_client):
    answer = cors_client.post("/api/predict", headers={"Origin": LMS})
    assert answer.status_code == 400 and answer.headers["Access-Control-Allow-Origin"] == LMS


def test_a_429_lets_the_allowed_page_read_retry_after(tmp_path, seven):
    client = embedded_app(tmp_path, CORS_ORIGINS=(LMS,), RATELIMIT_ENABLED=True,
                          RATELIMIT_PREDICT="1 per minute").test_client()
    statuses = []
    for _ in range(2):
        answer = client.post("/api/predict", headers={"Origin": LMS}, content_type="multipart/form-data",
                             data={"image": (io.BytesIO(seven), "drawing.png")})
        statuses.append(answer.status_code)
    assert statuses == [200, 429]
    assert answer.headers["Access-Control-Allow-Origin"] == LMS and int(answer.headers["Retry-After"]) >= 1
    assert answer.headers["Access-Control-Expose-Headers"] == "Retry-After"


# --- saving drawings from another site -------------------------------------------------------------

def test_an_allowed_origins_page_may_save_a_drawing(cors_client, seven):
    answer = feedback(cors_client, seven, **{"Sec-Fetch-Site": "cross-site", "Origin": LMS})
    assert answer.status_code == 201, answer.get_json()
    assert answer.headers["Access-Control-Allow-Origin"] == LMS
    assert cors_client.get("/api/drawings").get_json()["total"] == 1


@pytest.mark.parametrize("origin", [OTHER, f"{LMS}.evil.example", "http://lms.school.example", "null", None])
def test_another_sites_page_still_may_not(cors_client, seven, origin):
    headers = {"Sec-Fetch-Site": "cross-site", **({"Origin": origin} if origin else {})}
    answer = feedback(cors_client, seven, **headers)
    assert answer.status_code == 403 and "own pages" in answer.get_json()["error"]
    assert cors_client.get("/api/drawings").get_json()["total"] == 0


def test_without_cors_origins_the_platform_may_not_save(client, seven):
    answer = feedback(client, seven, **{"Sec-Fetch-Site": "cross-site", "Origin": LMS})
    assert answer.status_code == 403
