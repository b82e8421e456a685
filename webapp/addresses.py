"""This computer's network addresses: what students' devices can open (printed at start, shown on /join)."""

from __future__ import annotations

import ipaddress
import socket

import psutil


def network_addresses() -> list[str]:
    """This computer's IPv4 addresses other than loopback, from its network interfaces."""
    found = []
    for _interface, entries in sorted(psutil.net_if_addrs().items()):
        for entry in entries:
            if entry.family == socket.AF_INET and not entry.address.startswith("127."):
                found.append(entry.address)
    return found


def is_loopback(host: str) -> bool:
    """True for a name or address only this computer can reach (localhost, 127.x, ::1)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def addresses_to_open(host: str, port: int, public_url: str | None = None) -> list[str]:
    """The start-up lines that say where the app can be opened (gunicorn prints them, webapp/server.py).

    With a public address (DIGITDRAW_PUBLIC_URL) students open that one, the address of the join QR code,
    so the lines name it rather than this computer's own addresses."""
    if public_url:
        listening = f"every network interface, port {port}" if host in ("0.0.0.0", "::") else f"{host}:{port}"
        return [f"Students open {public_url} (DIGITDRAW_PUBLIC_URL), the address the join QR code shows; "
                "press Presenter (or Join) on the projector for it, the teacher signs in at /teacher.",
                f"This server listens on {listening}: {public_url} must lead here (a proxy or a school domain)."]
    if host in ("0.0.0.0", "::"):
        urls = [f"http://{address}:{port}/" for address in network_addresses()]
        if not urls:
            return [f"Listening on every network interface, port {port}, but this computer has no "
                    "network address other than 127.0.0.1."]
        return ["Students on this network can open: " + "  ".join(urls),
                "Open one of them on the projector and press Presenter (or Join) for its QR code; "
                "the teacher signs in at /teacher."]
    if is_loopback(host):
        return [f"Open http://{host}:{port}/ on this computer. For students' devices, start with "
                "HOST=0.0.0.0 (see the README's classroom section)."]
    return [f"Open http://{host}:{port}/"]
