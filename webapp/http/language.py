"""Every page in the class's own language (Flask-Babel, gettext catalogs in webapp/translations/).

Which language a request gets, first found wins:
1. the class's language, when the teacher fixed one on /teacher (a classroom setting in the store, so every
   worker and instance agrees); not for /api/ requests, which our pages send with their page's language;
2. the language picked in the header's picker (the `digitdraw_language` cookie);
3. the browser's `Accept-Language`;
4. English.

Templates and Python use gettext (`_`, `ngettext`); the JavaScript gets its own catalog (the `js` domain,
extracted from static/js/) inside every page as JSON, with the language's plural forms, so `t()` and `tn()` in
static/js/i18n.js need no request of their own and no CDN.
"""

from __future__ import annotations

import json
import logging
import re
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from babel import Locale, numbers
from babel.support import Translations
from flask import Blueprint, Flask, current_app, jsonify, redirect, request
from flask_babel import Babel, get_locale, gettext
from markupsafe import Markup, escape

from webapp.http.errors import API_PREFIX, ApiError

log = logging.getLogger("digitdraw")

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
# Shipped languages: code -> the language's own name, as the picker shows it.
LANGUAGES = {
    "en": "English",
    "es": "Español",
    "fr": "Français",
    "de": "Deutsch",
    "pt_BR": "Português (Brasil)",
    "ar": "العربية",
}
DEFAULT = "en"
COOKIE = "digitdraw_language"
COOKIE_SECONDS = 365 * 24 * 3600
CLASS_LANGUAGE = "language"   # the store's classroom setting; absent or "" when every device chooses
PLURAL_TABLE = 200            # the JavaScript picks plural forms from n in 0..199 (and 100 + n % 100 beyond)

bp = Blueprint("language", __name__)


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=choose_language)
    app.register_blueprint(bp)
    app.context_processor(page_language)
    for words_filter in (number, percent, translated):
        app.add_template_filter(words_filter)
    missing = [code for code in LANGUAGES if code != DEFAULT and not compiled(code)]
    if missing:
        log.warning("translations not compiled for %s: those pages show English until `make translations` runs",
                    ", ".join(missing))


def compiled(code: str) -> bool:
    folder = TRANSLATIONS / code / "LC_MESSAGES"
    return (folder / "messages.mo").is_file() and (folder / "js.mo").is_file()


def class_language() -> str | None:
    """The language the teacher fixed for every device, or None (read once a request). A store that cannot be
    read fixes none."""
    from webapp.http.teacher import read_classroom_setting
    key = "digitdraw.class_language"
    if key not in request.environ:
        chosen = read_classroom_setting(CLASS_LANGUAGE, "")
        request.environ[key] = chosen if chosen in LANGUAGES else None
    return request.environ[key]


def choose_language() -> str:
    """An API request gets the language it asks for (our pages' scripts send their page's language as
    Accept-Language), so answering one never needs the store; a page gets the class's language first."""
    fixed = None if request.path.startswith(API_PREFIX) else class_language()
    if fixed:
        return fixed
    picked = request.cookies.get(COOKIE)
    if picked in LANGUAGES:
        return picked
    return request.accept_languages.best_match(list(LANGUAGES) + [code.replace("_", "-") for code in LANGUAGES],
                                               default=DEFAULT).replace("-", "_")


def current_language() -> str:
    code = str(get_locale() or DEFAULT)
    return code if code in LANGUAGES else DEFAULT


def page_language() -> dict:
    """What base.html needs: `lang` and `dir` for <html>, the picker's choices, the JavaScript's catalog."""
    code = current_language()
    return {"language": code, "html_lang": code.replace("_", "-"), "text_direction": direction(code),
            "languages": LANGUAGES, "language_fixed": class_language() is not None,
            "js_catalog": js_catalog_json(code)}


def direction(code: str) -> str:
    return Locale.parse(code).text_direction


def number(value: float) -> str:
    """A count or a setting the request's locale's way, every decimal it has: 1234 -> "1,234" (en), "1.234" (de)."""
    return numbers.format_decimal(value, locale=get_locale() or DEFAULT, decimal_quantization=False,
                                  numbering_system="default")


def percent(fraction: float, digits: int = 1) -> Markup:
    """A fraction as the pages write a percentage: rounded as `"%.1f"` rounds, written the locale's way with
    `digits` decimals: 0.9734 -> "97.3&nbsp;%" (English, as the pages always wrote it), "97,3&nbsp;%" (de),
    "97,3%" (pt_BR), the percent sign where Arabic puts it."""
    rounded = Decimal(f"{fraction * 100:.{digits}f}") / 100
    locale = Locale.parse(get_locale() or DEFAULT)
    own = "0\xa0%" if locale.language == "en" else locale.percent_formats[None].pattern
    pattern = LAST_ZERO.sub("0." + "0" * digits, own, count=1) if digits else own
    text = numbers.format_percent(rounded, pattern, locale=locale, numbering_system="default")
    return Markup(str(escape(text)).replace("\xa0", "&nbsp;"))


LAST_ZERO = re.compile(r"0(?=[^0]*$)")   # where a percent pattern's decimals go


def translated(text: str | None) -> str:
    """Words that come from data (a model's title or description), in the page's language when the catalog has
    them (webapp/http/model_words.py lists them for extraction); escaped like any value, never `%`-formatted."""
    return gettext(text) if text else ""


@lru_cache(maxsize=len(LANGUAGES))
def js_catalog(code: str) -> dict:
    """The `js` domain's translations for one language: {msgid: text or [plural forms]}, and the plural form
    for each n below PLURAL_TABLE (gettext's own rule, so the JavaScript needs no rule of its own)."""
    messages: dict = {}
    plural = [0 if n == 1 else 1 for n in range(PLURAL_TABLE)]
    if code != DEFAULT:
        found = Translations.load(str(TRANSLATIONS), [code], domain="js")
        catalog = getattr(found, "_catalog", {})
        for key, text in catalog.items():
            if isinstance(key, tuple):
                msgid, index = key
                forms = messages.setdefault(msgid, [])
                forms.extend([""] * (index + 1 - len(forms)))
                forms[index] = text
            elif key and text:
                messages[key] = text
        if hasattr(found, "plural"):
            plural = [found.plural(n) for n in range(PLURAL_TABLE)]
    return {"language": code, "locale": code.replace("_", "-"), "direction": direction(code),
            "messages": messages, "plural": plural}


# What a <script> element must not hold as it is; JSON writes each as an escape.
SCRIPT_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027"}


@lru_cache(maxsize=len(LANGUAGES))
def js_catalog_json(code: str) -> Markup:
    """js_catalog as the JSON every page carries: made once per language and worker, and in UTF-8 rather than
    escaped (an Arabic page's catalog is 2.5 times smaller), with what could end the <script> escaped."""
    text = json.dumps(js_catalog(code), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    for character, escaped in SCRIPT_UNSAFE.items():
        text = text.replace(character, escaped)
    return Markup(text)


def safe_return(target: str | None) -> str:
    from webapp.http.teacher import safe_path
    return safe_path(target) or "/"


@bp.post("/language")
def pick():
    """The header's picker: a form with `language` (a shipped language's code) and `next` (this site's path).
    Kept for a year in a cookie; the class's language, when the teacher fixed one, still wins."""
    code = request.form.get("language", "")
    if code not in LANGUAGES:
        raise ApiError(400, f"Choose one of these languages: {', '.join(LANGUAGES)}.")
    response = redirect(safe_return(request.form.get("next")), code=303)
    response.set_cookie(COOKIE, code, max_age=COOKIE_SECONDS, samesite="Lax", httponly=True,
                        secure=(current_app.config.get("PUBLIC_URL") or "").startswith("https:"))
    return response


def class_language_json() -> dict:
    return {"language": class_language(), "languages": LANGUAGES}


@bp.get("/api/languages")
def languages():
    """The shipped languages, the class's fixed one (or null) and the one this request got."""
    return jsonify(current=current_language(), **class_language_json())
