"""How students join: the address to open, as large text and as a QR code made here (segno), no remote service.

The server cannot know how students reach it (a school network, a proxy, a
hotspot), so the address is the configured PUBLIC_URL or else the one the
teacher's browser used. When that is this computer's own loopback address the
page says students cannot open it and offers the machine's network addresses.
"""

from __future__ import annotations

import functools
import io
from urllib.parse import urlsplit

import segno
from flask import Blueprint, current_app, render_template, request

from webapp.addresses import is_loopback, network_addresses
from webapp.http.errors import ApiError

bp = Blueprint("join", __name__)

LONGEST_ADDRESS = 120   # characters; a QR code of more is too dense to scan from the back of a room


def join_address() -> str:
    """The address students should open."""
    return current_app.config.get("PUBLIC_URL") or request.host_url


def join_details() -> dict:
    """For the templates: the address, whether only this computer can open it, and then the addresses
    (same port) at which students could."""
    address = join_address()
    parts = urlsplit(address)
    loopback = is_loopback(parts.hostname or "")
    port = f":{parts.port}" if parts.port else ""
    others = [f"{parts.scheme}://{host}{port}{parts.path}" for host in network_addresses()] if loopback else []
    return {"join_address": address, "join_loopback": loopback, "join_others": others}


@functools.lru_cache(maxsize=32)   # a classroom asks for the same address again and again
def qr_svg(address: str) -> bytes:
    """The address as a QR code: SVG without a fixed size (CSS sizes it), black on white, a quiet zone of 4."""
    code = segno.make(address, error="m", micro=False)
    buffer = io.BytesIO()
    code.save(buffer, kind="svg", border=4, dark="#000", light="#fff", xmldecl=False, omitsize=True, nl=False,
              svgclass=None, lineclass=None, title=f"QR code: {address}")
    return buffer.getvalue()


@bp.get("/join")
def page():
    return render_template("join.html", **join_details())


@bp.get("/join/qr.svg")
def qr_code():
    address = join_address()
    if len(address) > LONGEST_ADDRESS:
        raise ApiError(400, f"This address is too long for a QR code people can scan "
                            f"(more than {LONGEST_ADDRESS} characters).")
    response = current_app.response_class(qr_svg(address), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-store"   # the address depends on how the browser reached us
    return response
