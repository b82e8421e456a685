"""How students join: the address on /join and in the QR code, made on the server from the request or
DIGITDRAW_PUBLIC_URL; the QR code decoded here with OpenCV's QRCodeDetector (no browser needed for the SVG:
segno draws the same code as a PNG from the same address, and the SVG's modules are checked against it)."""

from __future__ import annotations

import io
import re

import cv2
import numpy as np
import pytest
import segno
from PIL import Image

from support import make_app
from webapp import settings
from webapp.http.join import qr_svg


def decoded(png: bytes) -> str:
    image = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    text, _points, _straight = cv2.QRCodeDetector().detectAndDecode(image)
    return text


def svg_as_png(svg: bytes) -> bytes:
    """Rasterise segno's SVG (one path of horizontal runs, `M x y h n m dx dy ...`) without a browser."""
    text = svg.decode()
    side = int(text.split('viewBox="0 0 ')[1].split(" ")[0])
    path = text.split('stroke="#000" d="')[1].split('"')[0]
    grid = np.full((side, side), 255, np.uint8)
    x = y = 0.0
    for command, numbers in re.findall(r"([MmHh])([-\d. ]+)", path):
        values = [float(v) for v in numbers.split()]
        if command == "M":
            x, y = values
        elif command == "m":
            x, y = x + values[0], y + values[1]
        else:   # h: a dark run along the row at y - 0.5
            run = values[0]
            grid[int(y - 0.5), int(x):int(x + run)] = 0
            x += run
    big = cv2.resize(grid, (side * 10, side * 10), interpolation=cv2.INTER_NEAREST)
    buffer = io.BytesIO()
    Image.fromarray(big).save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_qr_code_holds_the_address_the_browser_used(client):
    response = client.get("/join/qr.svg", base_url="http://192.168.1.20:8000")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.headers["Cache-Control"] == "no-store"
    assert decoded(svg_as_png(response.data)) == "http://192.168.1.20:8000/"
    page = client.get("/join", base_url="http://192.168.1.20:8000").get_data(as_text=True)
    assert '<p class="join-address" dir="ltr">http://192.168.1.20:8000/</p>' in page
    assert "students' devices cannot open it" not in page


def test_the_configured_public_url_wins(tmp_path):
    client = make_app(tmp_path / "d.sqlite", PUBLIC_URL="https://draw.school.example/class-3/").test_client()
    svg = client.get("/join/qr.svg", base_url="http://127.0.0.1:8000").data
    assert decoded(svg_as_png(svg)) == "https://draw.school.example/class-3/"
    assert "https://draw.school.example/class-3/" in client.get("/").get_data(as_text=True)


def test_a_loopback_address_says_students_cannot_open_it(client):
    page = client.get("/join", base_url="http://127.0.0.1:8000").get_data(as_text=True)
    assert "students' devices cannot open it" in page and "DIGITDRAW_PUBLIC_URL" in page
    draw_page = client.get("/", base_url="http://localhost:8000").get_data(as_text=True)
    assert "students' devices cannot open it" in draw_page


def test_an_address_too_long_for_a_qr_code_is_a_400(tmp_path):
    client = make_app(tmp_path / "d.sqlite", PUBLIC_URL="https://draw.example/" + "a" * 400).test_client()
    response = client.get("/join/qr.svg")
    assert response.status_code == 400 and "too long for a QR code" in response.get_json()["error"]


def test_a_host_the_server_cannot_parse_is_a_400_not_a_500(client):
    response = client.get("/join", headers={"Host": "a" * 70 + ".example"})
    assert response.status_code == 400
    assert response.get_json() == {"error": "The request's Host header is no host name this server can answer for."}


def test_segno_svg_matches_its_png():
    """The rasteriser above reads segno's SVG right: it decodes to the same text as segno's own PNG."""
    address = "http://10.0.0.7:8000/"
    buffer = io.BytesIO()
    segno.make(address, error="m", micro=False).save(buffer, kind="png", scale=10, border=4)
    assert decoded(buffer.getvalue()) == decoded(svg_as_png(qr_svg(address))) == address


@pytest.mark.parametrize("value, expected", [
    ("http://192.168.1.20:8000", "http://192.168.1.20:8000/"),
    ("https://draw.example/class/", "https://draw.example/class/"),
    ("", None),
])
def test_public_url_setting(value, expected):
    assert settings.public_url(value) == expected


@pytest.mark.parametrize("value", ["ftp://x.example/", "draw.example", "http://", "http://x.example/?a=1",
                                   "http://x.example:99999/", "http://x.example:port/"])
def test_a_bad_public_url_stops_start_up(value):
    with pytest.raises(settings.SettingError, match="DIGITDRAW_PUBLIC_URL"):
        settings.from_environment({"DIGITDRAW_PUBLIC_URL": value})
