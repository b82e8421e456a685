"""Every setting the app reads, with its type, range and default, checked once at start-up.

A setting comes from the environment as `DIGITDRAW_<NAME>` (Flask's prefix
convention). Values are parsed by the setting's own type, never guessed: a
delete token `1e3` stays the text "1e3", and `DIGITDRAW_MAX_CONTENT_LENGTH=8MB`
stops start-up with one line naming the variable and what it should be, instead
of starting and then failing every upload.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit, urlunsplit

from limits import parse_many
from limits.errors import ConfigurationError
from limits.storage import storage_from_string

log = logging.getLogger("digitdraw")

PREFIX = "DIGITDRAW_"
MIB = 1024 * 1024
MIN_TOKEN_LENGTH = 16
BINARY_UNITS = (("GiB", 1024 * MIB), ("MiB", MIB), ("KiB", 1024))
# Read by other tools, not by the server: known, so they are not reported as typos.
NOT_SERVER_SETTINGS = {"MNIST"}
# Other names a setting answers to: the multi-machine docs' name, and the teacher's token's name before it
# also signed teachers in.
ALIASES = {"RATELIMIT_STORAGE": "RATELIMIT_STORAGE_URI", "DELETE_TOKEN": "TEACHER_TOKEN"}


class SettingError(SystemExit):
    """A bad setting: start-up stops with this one line (SystemExit prints it and exits 1)."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    parse: Callable[[str], Any]   # raises ValueError with what the value should be
    meaning: str
    shown_default: str | None = None   # for defaults that create_app works out (paths)
    is_size: bool = False              # a number of bytes: shown with its unit

    @property
    def variable(self) -> str:
        return PREFIX + self.name


def whole(smallest: int, largest: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        stripped = text.strip().replace("_", "")
        if not (stripped.isascii() and stripped.isdigit() and len(stripped) <= 18):
            raise ValueError(f"a whole number from {smallest:,} to {largest:,}")
        number = int(stripped)
        if not smallest <= number <= largest:
            raise ValueError(f"a whole number from {smallest:,} to {largest:,}")
        return number
    return parse


def decimal(smallest: float, largest: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            number = float(text)
        except ValueError:
            number = float("nan")
        if not smallest <= number <= largest:   # also refuses nan
            raise ValueError(f"a number from {smallest:g} to {largest:g}")
        return number
    return parse


def boolean(text: str) -> bool:
    words = {"1": True, "true": True, "yes": True, "on": True,
             "0": False, "false": False, "no": False, "off": False}
    try:
        return words[text.strip().lower()]
    except KeyError:
        raise ValueError("true or false") from None


def token(text: str) -> str | None:
    """A secret typed by a teacher: plain text, kept exactly as typed; empty means off."""
    if text == "":
        return None
    if len(text) < MIN_TOKEN_LENGTH:
        raise ValueError(f"a secret of at least {MIN_TOKEN_LENGTH} characters (or empty to turn it off)")
    return text


def public_url(text: str) -> str | None:
    """The address students open, e.g. `http://192.168.1.20:8000/`; empty: the one the teacher's browser used."""
    if text.strip() == "":
        return None
    parts = urlsplit(text.strip())
    if (parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment
            or not has_valid_port(parts)):
        raise ValueError("an http:// or https:// address such as http://192.168.1.20:8000/")
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + "/", "", ""))


def has_valid_port(parts) -> bool:
    try:
        return parts.port is None or parts.port > 0   # a port out of range or not a number raises
    except ValueError:
        return False


def path(text: str) -> str:
    if not text.strip():
        raise ValueError("a file or folder path")
    return str(Path(text).expanduser())


def database(text: str) -> str:
    """A PostgreSQL URL (`postgresql://user:password@host:5432/db`) as it is, or a SQLite file's path
    (`sqlite:///` optional)."""
    if text.startswith(("postgresql://", "postgres://")):
        from psycopg.conninfo import conninfo_to_dict

        try:
            conninfo_to_dict(text)
        except Exception:
            raise ValueError("a PostgreSQL URL such as postgresql://user:password@host:5432/digitdraw") from None
        return text
    return path(text.removeprefix("sqlite://") if text.startswith("sqlite:///") else text)


ORIGIN = re.compile(r"(?P<scheme>https?)://(?P<host>[a-z0-9.-]+)(?::(?P<port>[0-9]{1,5}))?/?", re.IGNORECASE)
DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
DEFAULT_PORTS = {"http": 80, "https": 443}
SHOWN_ENTRY = 20   # characters of a bad origin repeated in the one-line error


def origins(text: str) -> tuple[str, ...]:
    """Web origins separated by spaces or commas, e.g. `https://lms.school.example https://moodle.example:8443`.

    Each is written as a browser sends it in `Origin` (lower case, no default port,
    no trailing slash), so the app compares it with that header exactly. Wildcards
    are refused on purpose: an allowed origin may save drawings (webapp/http/same_origin.py),
    and `https://*.example` would let every page of every subdomain do so. Empty: none.
    """
    found: list[str] = []
    for entry in re.split(r"[\s,]+", text.strip()):
        if entry and (normalised := origin(entry)) not in found:
            found.append(normalised)
    return tuple(found)


def origin(entry: str) -> str:
    """`scheme://host[:port]` with scheme http or https, a host name or IPv4 address, no path or wildcard."""
    match = ORIGIN.fullmatch(entry)
    if not match or not is_host_name(match["host"]) or not 0 < int(match["port"] or 1) < 65536:
        shown = "".join(c if c.isprintable() else "?" for c in entry[:SHOWN_ENTRY])
        shown += "..." if len(entry) > SHOWN_ENTRY else ""
        raise ValueError(f"origins such as https://lms.example or http://10.0.0.5:8080, space or comma "
                         f"separated, no path or wildcard; {shown!r} is not one")
    scheme, host = match["scheme"].lower(), match["host"].lower()
    port = int(match["port"] or DEFAULT_PORTS[scheme])
    return f"{scheme}://{host}" if port == DEFAULT_PORTS[scheme] else f"{scheme}://{host}:{port}"


def is_host_name(host: str) -> bool:
    """A DNS name or an IPv4 address. No IPv6 literal: CSP's frame-ancestors cannot name one."""
    return len(host) <= 253 and all(DNS_LABEL.fullmatch(label) for label in host.lower().split("."))


def configured_origins(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """A FRAME_ANCESTORS or CORS_ORIGINS config value, also one given as text or a list in test_config."""
    if not value:
        return ()
    return origins(value if isinstance(value, str) else " ".join(value))


def rate_limits(text: str) -> str:
    """Flask-Limiter's notation, e.g. `40 per second; 1200 per minute`."""
    try:
        if not parse_many(text):
            raise ValueError
    except ValueError:
        raise ValueError("limits such as `40 per second; 1200 per minute`") from None
    return text


def storage_uri(text: str) -> str:
    """A URI Flask-Limiter can store counters at; building the storage does not connect yet. `file://` alone is
    the counters file beside the store (webapp/http/machine_counters.py)."""
    from webapp.http import machine_counters  # registers the file:// scheme with `limits`
    if text == f"{machine_counters.SCHEME}://":
        return text
    try:
        storage_from_string(text)
    except (ConfigurationError, ValueError):
        raise ValueError("a storage URI such as file://, memory:// or redis://host:6379") from None
    return text


SETTINGS = (
    Setting("MODEL_DIR", None, path, "folder of `*.tflite` + `*.json` models", "`model/`"),
    Setting("DATABASE", None, database,
            "where the drawings, model versions and the teacher's choices are kept: a SQLite file's path (one "
            "machine) or `postgresql://user:password@host:5432/db` (shared by several instances)",
            "`instance/drawings.sqlite`"),
    Setting("TEACHER_TOKEN", None, token,
            f"the teacher's token: signs in to teacher mode on the pages (`/teacher`), and scripts send it as "
            f"`Authorization: Bearer ...`; at least {MIN_TOKEN_LENGTH} characters; also accepted as "
            f"`DIGITDRAW_DELETE_TOKEN`, its earlier name; unset: teacher mode is off"),
    Setting("SECRET_KEY", None, token,
            "signs the teacher's session cookie and undo tokens; unset: a random key made once and kept in "
            "the drawings store (shared by every worker and instance using it)"),
    Setting("TEACHER_SESSION_HOURS", 8.0, decimal(0.05, 168.0), "hours a teacher stays signed in"),
    Setting("PUBLIC_URL", None, public_url,
            "the address students open, shown as the join QR code; unset: the address the teacher's "
            "browser used"),
    Setting("MAX_CONTENT_LENGTH", 8 * MIB, whole(1024, 64 * MIB), "largest request body, bytes", is_size=True),
    # Werkzeug reads forms in 64 KiB chunks and counts a whole chunk against this limit; it also
    # bounds each part's headers, which Werkzeug parses at about half a microsecond a byte.
    Setting("MAX_FORM_MEMORY_SIZE", 128 * 1024, whole(96 * 1024, 8 * MIB),
            "largest form text field or part header, bytes", is_size=True),
    Setting("MAX_FORM_PARTS", 8, whole(2, 1000), "most parts in a multipart form (the API uses at most 5)"),
    Setting("MAX_IMAGE_PIXELS", 16_000_000, whole(1024, 100_000_000),
            "largest image, pixels (checked before decoding)"),
    Setting("MODEL_RELOAD_SECONDS", 2.0, decimal(0.0, 3600.0),
            "how often each worker looks for a newly published or rolled-back model version, seconds"),
    Setting("FINETUNE_MAX_TEST_DROP", 0.1, decimal(0.0, 100.0),
            "fine-tuning publishes only if MNIST test accuracy drops by at most this many points"),
    Setting("FINETUNE_MAX_DRAWINGS_DROP", 0.0, decimal(0.0, 100.0),
            "... and accuracy on the held-out collected drawings by at most this many points"),
    Setting("UNSURE_THRESHOLD", 0.6, decimal(0.0, 1.0),
            "below this confidence the page says the model is not sure"),
    Setting("FEEDBACK_IMAGE_SIDE", 256, whole(28, 1024), "longest side of the stored copy of a drawing, pixels"),
    Setting("FEEDBACK_MAX_ROWS", 100_000, whole(1, 100_000_000), "most drawings the store keeps (then 507)"),
    Setting("FEEDBACK_MAX_PER_LABEL_HOUR", 100, whole(1, 1_000_000),
            "most drawings of one digit one device (one address; behind a school's one address, the whole class) "
            "may add in an hour (then 429), so that one device cannot fill the class's data with its own idea "
            "of a digit"),
    # 100,000 drawings of 256 px take about 800 MB with every model's answer to each
    Setting("FEEDBACK_MAX_BYTES", 1024 * MIB, whole(MIB, 1024 * 1024 * MIB),
            "most bytes the drawings take (then 507): the SQLite file's pages in use; on PostgreSQL each kept image "
            "plus 1 KiB", is_size=True),
    Setting("DATABASE_WAL_LIMIT", 16 * MIB, whole(0, 1024 * MIB),
            "size the SQLite write-ahead log is cut back to after a checkpoint, bytes (SQLite only)", is_size=True),
    Setting("RATELIMIT_ENABLED", True, boolean, "per-client rate limits on (`false` for benchmarks)"),
    Setting("RATELIMIT_STORAGE_URI", "file://", storage_uri,
            "where rate-limit counters live: `file://` (a SQLite file shared by every worker of this machine: "
            "beside the drawings store when that is a SQLite file, else in a private temp folder; "
            "`file:///path/ratelimits.sqlite` names the file), `redis://host:port` (shared by every worker and "
            "instance; also accepted as `DIGITDRAW_RATELIMIT_STORAGE`) or `memory://` (each process alone); "
            "while the file or Redis cannot be used each process counts in memory"),
    Setting("RATELIMIT_PREDICT", "40 per second; 1200 per minute", rate_limits,
            "limits per client on /api/predict (live drawing sends about 7 a second)"),
    Setting("RATELIMIT_EXPLAIN", "5 per second; 120 per minute", rate_limits,
            "limits per client on /api/explain (the page asks once a stroke ends; each costs tens of ms)"),
    Setting("RATELIMIT_FEEDBACK", "5 per second; 60 per minute; 1000 per hour", rate_limits,
            "limits per client on each of: saving, taking back and deleting drawings, the teacher's sign-in and "
            "settings, the join QR code"),
    Setting("RATELIMIT_DEFAULT", "50 per second; 2000 per minute", rate_limits,
            "limits per client on every other page and API call (static files are exempt)"),
    Setting("TRUSTED_PROXIES", 0, whole(0, 5),
            "proxies in front of the app whose `X-Forwarded-For` is believed; 0: none"),
    Setting("FRAME_ANCESTORS", (), origins,
            "origins whose pages may show the app in a frame (e.g. an LMS: `https://lms.school.example`), "
            "space or comma separated; unset: no site may frame it", "unset"),
    Setting("CORS_ORIGINS", (), origins,
            "origins whose pages may call `/api/*` from the browser (CORS, no cookies) and save drawings, "
            "space or comma separated; unset: only this app's own pages", "unset"),
    Setting("HEADER_TIMEOUT", 10.0, decimal(0.5, 300.0),
            "seconds a connection may take to send a request's headers (and may stay idle between requests)"),
    Setting("BODY_TIMEOUT", 20.0, decimal(0.5, 300.0), "seconds a client may take to send a request's body"),
    Setting("DEBUG", False, boolean, "ignored: the app never serves in debug mode"),
)
BY_NAME = {setting.name: setting for setting in SETTINGS}


def defaults() -> dict[str, Any]:
    return {setting.name: setting.default for setting in SETTINGS if setting.default is not None}


def from_environment(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """The `DIGITDRAW_*` values, each parsed by its setting; SettingError names the first bad one."""
    values: dict[str, Any] = {}
    given_as: dict[str, str] = {}
    for variable in sorted(environ):
        if not variable.startswith(PREFIX):
            continue
        name = variable[len(PREFIX):]
        name = ALIASES.get(name, name)
        if name in given_as and environ[given_as[name]] != environ[variable]:
            raise SettingError(f"Bad setting {variable}: {given_as[name]} is set to another value; set only "
                               f"{PREFIX}{name}.")
        given_as[name] = variable
        setting = BY_NAME.get(name)
        if setting is None:
            if name not in NOT_SERVER_SETTINGS:
                log.warning("unknown setting %s ignored; the settings are listed in the README", variable)
            continue
        try:
            values[name] = setting.parse(environ[variable])
        except ValueError as error:
            raise SettingError(f"Bad setting {variable}: it should be {error}.") from None
    return values


def shown_default(setting: Setting) -> str:
    if setting.shown_default or setting.default is None:
        return setting.shown_default or "unset"
    if isinstance(setting.default, bool):
        return f"`{str(setting.default).lower()}`"
    for unit, size in BINARY_UNITS:
        if setting.is_size and setting.default >= size and setting.default % size == 0:
            return f"`{setting.default}` ({setting.default // size} {unit})"
    return f"`{setting.default}`"


def size_in_words(size: int) -> str:
    """Bytes as a person reads them in a message: `8 MiB`, `97.7 KiB`, `512 bytes`.

    Whole or one decimal, in the binary units of the README's table, so a limit of
    100,000 bytes reads "97.7 KiB" and never "0.0953674 MB".
    """
    for unit, unit_size in BINARY_UNITS:
        if round(size / unit_size, 1) >= 1:
            return f"{size / unit_size:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size:,} byte{'' if size == 1 else 's'}"


def markdown_table() -> str:
    """The README's configuration table, made from SETTINGS so the two cannot drift apart."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    rows += [f"| `{setting.variable}` | {shown_default(setting)} | {setting.meaning} |" for setting in SETTINGS]
    return "\n".join(rows)

