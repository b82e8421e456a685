"""The server log: one line per request, one per rejected input, never the uploaded bytes, no forged lines."""

import io
import logging
import re

import pytest

REQUEST_LINE = re.compile(r'^request method=(\w+) path=("[^"]*") status=(\d{3}) ms=\d+\.\d bytes=(\d+|-)$')
MARKER = b"UPLOADED-BYTES-MUST-NOT-BE-LOGGED"


@pytest.fixture()
def log_lines(caplog):
    caplog.set_level(logging.INFO, logger="digitdraw")

    def lines():
        return [r.getMessage() for r in caplog.records if r.name == "digitdraw"]
    return lines


def test_one_structured_line_per_request(client, log_lines):
    client.get("/api/health")
    client.get("/static/css/base.css")
    request_lines = [line for line in log_lines() if line.startswith("request ")]
    assert len(request_lines) == 2
    first, second = (REQUEST_LINE.match(line) for line in request_lines)
    assert first.groups()[:3] == ("GET", '"/api/health"', "200") and first.group(4) != "-"
    assert second.groups()[:3] == ("GET", '"/static/css/base.css"', "200")


def test_rejected_input_gets_a_line_with_the_reason_and_not_the_bytes(client, log_lines):
    response = client.post("/api/predict", data={"image": (io.BytesIO(MARKER * 50), "x.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 415
    lines = log_lines()
    rejected = [line for line in lines if line.startswith("rejected ")]
    assert rejected == [f'rejected status=415 path="/api/predict" reason="{response.get_json()["error"]}"']
    assert any(REQUEST_LINE.match(line) and "status=415" in line for line in lines)
    assert not any(MARKER.decode() in line for line in lines)


def test_a_path_cannot_forge_log_lines(client, log_lines):
    client.get("/api/x%0Arequest method=GET path=%22/forged%22 status=200")
    lines = log_lines()
    assert all("\n" not in line for line in lines)
    assert not any(line.startswith('request method=GET path="/forged"') for line in lines)
