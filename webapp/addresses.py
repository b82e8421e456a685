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
