"""Every HTTP error answered in words: JSON under /api/, a friendly page elsewhere.

Werkzeug's default error pages are HTML written for developers, and a client of
the API would have to parse them. The app's own refusals are `ApiError(status,
sentence)`; the image decoder's (ImageRejected) and the drawings store's
(StoreRefused) carry their status the same way and are answered alike.
Unexpected exceptions reach the handler as a 500 after Flask has logged their
traceback (`app.logger`); the client only ever sees a sentence, never the trace.
"""

from __future__ import annotations

import re

from flask import Flask, current_app, jsonify, render_template, request
from flask.globals import request_ctx
from flask_babel import gettext
from werkzeug.exceptions import BadHost, HTTPException

from webapp.http.echo import shortened
from webapp.sentences import N_, Count, Sentence
from webapp.settings import size_in_words
from webapp.store.refusals import StoreRefused
from webapp.vision.preprocess import ImageRejected

API_PREFIX = "/api/"
WITHOUT_CONVERTER = re.compile(r"<(?:[^<>:]+:)?([^<>:]+)>")   # <int(max=9):drawing_id> -> <drawing_id>
# Werkzeug's names of the errors a page can meet, its title on error.html: written here for the catalogs.
PAGE_TITLES = (N_("Bad Request"), N_("Forbidden"), N_("Not Found"), N_("Method Not Allowed"),
               N_("Request Entity Too Large"), N_("Unsupported Media Type"), N_("Too Many Requests"),
               N_("Internal Server Error"), N_("Service Unavailable"))


class ApiError(Sentence):
    """A refusal with its HTTP status and a sentence for the person who sent the request.

    A sentence a page shows is marked for translation where it is written, `N_("...")` (webapp/sentences.py).
    The JSON's `error` stays the English sentence; `message` is added in the page's language when one exists."""

    def __init__(self, status: int, message: str, **values):
        super().__init__(message, **values)
        self.status = status


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, answer_http_error)
    for refusal in (ApiError, ImageRejected, StoreRefused):
        app.register_error_handler(refusal, answer_refusal)


def answer_refusal(error: ApiError | ImageRejected | StoreRefused):
    """A refusal of what the request asked for is JSON, also on a page's address (a bad `?page=`);
    a page whose drawings store fails is a page that says so."""
    if isinstance(error, StoreRefused) and not is_api_request():
        return render_template("error.html", status=error.status, title=gettext("The drawings cannot be shown"),
                               message=sentence_in_words(error)), error.status
    response = jsonify(error=str(error), **translated(error))
    retry_after = getattr(error, "retry_after", None)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response, error.status


def translated(error: Exception | tuple[str, dict]) -> dict:
    """{"message": the sentence in the request's language} when it has a translation there, else {}."""
    from flask_babel import get_translations
    if isinstance(error, tuple):
        template, values = error
    else:
        template, values = getattr(error, "template", str(error)), getattr(error, "values", {})
    own = get_translations().gettext(template)   # looked up once
    if own == template:
        return {}
    try:
        return {"message": own % {name: in_locale(value) for name, value in values.items()} if values else own}
    except (KeyError, ValueError, TypeError):   # a translation that does not fit its values: English, not a 500
        return {}


def sentence_in_words(sentence: Sentence | None) -> str | None:
    """A refusal's sentence in the request's language (the English when it has no translation there)."""
    return None if sentence is None else translated(sentence).get("message", str(sentence))


def in_locale(value):
    """A Count written the request's language's way; any other value as it is."""
    if isinstance(value, Count):
        from flask_babel import format_decimal
        return format_decimal(int(value))
    return value


def api_endpoints() -> str:
    """The API's addresses, from the app's own URL map: `/api/a, /api/b and /api/c`."""
    rules = sorted({WITHOUT_CONVERTER.sub(r"<\1>", rule.rule) for rule in current_app.url_map.iter_rules()
                    if rule.rule.startswith(API_PREFIX)})
    return ", ".join(rules[:-1]) + " and " + rules[-1] if len(rules) > 1 else "".join(rules)


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def is_within_upload_limit() -> bool:
    """A 413 for a body within the upload limit came from the form parser: a text field or too many parts."""
    return request.content_length is not None and request.content_length <= current_app.config["MAX_CONTENT_LENGTH"]


def sentence_for(error: HTTPException) -> str:
    """What went wrong, for a person reading it in a browser or a terminal."""
    template, values = sentence_template_for(error)
    return template % values if values else template


def sentence_template_for(error: HTTPException) -> tuple[str, dict]:
    """sentence_for's sentence as its translatable template (N_) and the values of its variable parts."""
    if error.code == 404:
        if is_api_request():
            return (N_("There is no API endpoint at %(path)s; the API has %(endpoints)s."),
                    {"path": shortened(request.path, quote=str), "endpoints": api_endpoints()})
        return N_("There is no page at this address."), {}
    if error.code == 405:
        allowed = " or ".join(sorted(set(error.valid_methods or ()) - {"HEAD", "OPTIONS"}))
        return (N_("%(path)s does not accept %(method)s; use %(allowed)s."),
                {"path": shortened(request.path, quote=str), "method": shortened(request.method, quote=str),
                 "allowed": allowed or "another method"})
    if error.code == 413 and is_within_upload_limit():
        return (N_("A form field is too large or the form has too many parts: a text field holds at most %(size)s."),
                {"size": size_in_words(current_app.config["MAX_FORM_MEMORY_SIZE"])})
    if error.code == 413:
        return (N_("The upload is too large: the limit is %(size)s."),
                {"size": size_in_words(current_app.config["MAX_CONTENT_LENGTH"])})
    if error.code == 415:
        return N_("This type of content is not supported: send a PNG, JPEG, WebP, GIF or BMP image."), {}
    if error.code == 429:
        return (N_("Too many requests from your address (the limit is %(limit)s). Wait a moment and try again."),
                {"limit": error.description})
    if isinstance(error, BadHost):
        return N_("The request's Host header is no host name this server can answer for."), {}
    if error.code == 400:
        return N_("The request could not be understood: check the form fields and the image."), {}
    if error.code is not None and error.code >= 500:
        return N_("Something went wrong on the server. It has been logged; please try again."), {}
    return "%(name)s.", {"name": error.name}


def answer_http_error(error: HTTPException):
    status = error.code or 500
    message = sentence_for(error)
    if is_api_request() or request_ctx.url_adapter is None:   # no adapter (a Host it cannot parse): no page links
        response = jsonify(error=message, **translated(sentence_template_for(error)))
    else:
        response = current_app.make_response(
            render_template("error.html", status=status, title=gettext(error.name),
                            message=translated(sentence_template_for(error)).get("message", message)))
    response.status_code = status
    if error.code == 405 and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response
