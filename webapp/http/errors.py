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
from werkzeug.exceptions import BadHost, HTTPException

from webapp.http.echo import shortened
from webapp.settings import size_in_words
from webapp.store.refusals import StoreRefused
from webapp.vision.preprocess import ImageRejected

API_PREFIX = "/api/"
WITHOUT_CONVERTER = re.compile(r"<(?:[^<>:]+:)?([^<>:]+)>")   # <int(max=9):drawing_id> -> <drawing_id>


class ApiError(Exception):
    """A refusal with its HTTP status and a sentence for the person who sent the request.

    A sentence a page shows is marked for translation where it is written, `N_("...")`, with its variable
    parts as `%(name)s` and their values as keywords: `ApiError(413, N_("At most %(size)s."), size="8 MiB")`.
    The JSON's `error` stays the English sentence; `message` is added in the page's language when one exists."""

    def __init__(self, status: int, message: str, **values):
        super().__init__(message % values if values else message)
        self.status = status
        self.template, self.values = message, values


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, answer_http_error)
    for refusal in (ApiError, ImageRejected, StoreRefused):
        app.register_error_handler(refusal, answer_refusal)


def answer_refusal(error: ApiError | ImageRejected | StoreRefused):
    """A refusal of what the request asked for is JSON, also on a page's address (a bad `?page=`);
    a page whose drawings store fails is a page that says so."""
    if isinstance(error, StoreRefused) and not is_api_request():
        return render_template("error.html", status=error.status, title="The drawings cannot be shown",
                               message=str(error)), error.status
    response = jsonify(error=str(error), **translated(error))
    retry_after = getattr(error, "retry_after", None)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response, error.status


def N_(message: str) -> str:
    """Marks a sentence for the catalogs (pybabel extract) without translating it here: translated() does,
    in the language of the request that is answered."""
    return message


def translated(error: Exception) -> dict:
    """{"message": the sentence in the request's language} when it has a translation there, else {}."""
    from flask_babel import gettext
    template, values = getattr(error, "template", str(error)), getattr(error, "values", {})
    try:
        text = gettext(template, **values) if values else gettext(template)
    except (KeyError, ValueError, TypeError):   # a translation that does not fit its values: English, not a 500
        return {}
    english = template % values if values else template
    return {"message": text} if text != english else {}


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
    if error.code == 404:
        if is_api_request():
            return f"There is no API endpoint at {shortened(request.path, quote=str)}; the API has {api_endpoints()}."
        return "There is no page at this address."
    if error.code == 405:
        allowed = " or ".join(sorted(set(error.valid_methods or ()) - {"HEAD", "OPTIONS"}))
        return (f"{shortened(request.path, quote=str)} does not accept {shortened(request.method, quote=str)}; "
                f"use {allowed or 'another method'}.")
    if error.code == 413 and is_within_upload_limit():
        return (f"A form field is too large or the form has too many parts: a text field holds at most "
                f"{size_in_words(current_app.config['MAX_FORM_MEMORY_SIZE'])}.")
    if error.code == 413:
        return f"The upload is too large: the limit is {size_in_words(current_app.config['MAX_CONTENT_LENGTH'])}."
    if error.code == 415:
        return "This type of content is not supported: send a PNG, JPEG, WebP, GIF or BMP image."
    if error.code == 429:
        return (f"Too many requests from your address (the limit is {error.description}). "
                "Wait a moment and try again.")
    if isinstance(error, BadHost):
        return "The request's Host header is no host name this server can answer for."
    if error.code == 400:
        return "The request could not be understood: check the form fields and the image."
    if error.code is not None and error.code >= 500:
        return "Something went wrong on the server. It has been logged; please try again."
    return f"{error.name}."


def answer_http_error(error: HTTPException):
    status = error.code or 500
    message = sentence_for(error)
    if is_api_request() or request_ctx.url_adapter is None:   # no adapter (a Host it cannot parse): no page links
        response = jsonify(error=message)
    else:
        response = current_app.make_response(
            render_template("error.html", status=status, title=error.name, message=message))
    response.status_code = status
    if error.code == 405 and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response
