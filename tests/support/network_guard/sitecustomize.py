"""A guard that fails a test when a process under test reaches for the network beyond this computer.

Put this folder first on PYTHONPATH and set DIGITDRAW_NETWORK_GUARD_LOG to a file: every Python process started
with that environment (a server, the fine-tuning process it starts) writes each attempt to look up or connect to
a host other than loopback into the file and is refused (OSError), through Python's audit hooks, which see
every socket connect and name lookup, whatever library makes it."""

import ipaddress
import os
import socket
import sys

LOG = os.environ.get("DIGITDRAW_NETWORK_GUARD_LOG")
LOCAL_NAMES = {None, "", "localhost", "localhost.localdomain", "ip6-localhost"}


def is_local(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if host in LOCAL_NAMES or (isinstance(host, str) and host.endswith(".localhost")):
        return True
    try:
        address = ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def refuse(what: str) -> None:
    with open(LOG, "a", encoding="utf-8") as log:
        log.write(f"{os.getpid()} {' '.join(sys.argv[:3])}: {what}\n")
    raise OSError(f"network access refused by the test's guard: {what}")


def guard(event: str, arguments: tuple) -> None:
    if event == "socket.getaddrinfo" and not is_local(arguments[0]):
        refuse(f"looked up {arguments[0]!r}")
    elif event in ("socket.connect", "socket.sendto"):
        sock, address = arguments[0], arguments[-1]
        if getattr(sock, "family", None) in (socket.AF_INET, socket.AF_INET6) and not is_local(address[0]):
            refuse(f"connected to {address!r}")
    elif event == "socket.gethostbyname" and not is_local(arguments[0]):
        refuse(f"looked up {arguments[0]!r}")


if LOG:
    sys.addaudithook(guard)
