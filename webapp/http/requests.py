"""What a request asks for, checked once for every blueprint: the image, the mode, the models, counts.

Each helper returns a valid value or raises ApiError with a sentence that names
the valid values and repeats at most a short piece of what was sent.
"""

from __future__ import annotations

import json
import re

from flask import current_app, request

from webapp.http.echo import shortened
from webapp.http.errors import ApiError
from webapp.inference.classifier import Classifier, ModelRegistry
from webapp.mnist_format import CLASSES
from webapp.settings import size_in_words

MODES = ("digit", "number")
ALL_MODELS = "all"
LARGEST_COUNT = 999_999_999   # counts have at most 9 digits: never too large for int() or SQLite
JSON_MOST_BYTES = 16 * 1024   # the API's JSON bodies are a few dozen bytes ({"model": "cnn", "epochs": 3})
JSON_MOST_DEPTH = 32          # arrays and objects inside one another; the API's bodies are one object
# What decides a JSON text's nesting: an escape (so `\"` is no quote), a quote, a bracket.
JSON_STRUCTURE = re.compile(r'\\.|["\[\]{}]', re.DOTALL)


def models() -> ModelRegistry:
    return current_app.extensions["models"]


def served_versions() -> dict[str, str]:
    """Each loaded model's served version, as the answers table keys it (model name -> version)."""
    return {classifier.name: classifier.version for classifier in models().ordered()}


def field(name: str, default: str | None = None) -> str | None:
    """A form field, else the query string's value, else `default`."""
    value = request.form.get(name) or request.args.get(name)
    return value if value else default


def uploaded_image_bytes() -> bytes:
    """The `image` file of a multipart form, or a raw `image/*` body."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("image")
        if upload is None:
            raise ApiError(400, "No image was sent: add the drawing as the form field `image`.")
        return upload.read()
    if request.mimetype.startswith("image/"):
        return request.get_data(cache=False)
    if not request.content_length and not request.mimetype:
        raise ApiError(400, "No image was sent: POST a PNG, JPEG, WebP, GIF or BMP.")
    sent = shortened(request.mimetype) if request.mimetype else "a body without Content-Type"
    raise ApiError(415, f"Send the image as multipart/form-data (field `image`) or as a raw image/* body, "
                        f"not {sent}.")


def chosen_mode() -> str:
    """The request's `mode` (default `digit`), or a 400 naming the valid modes."""
    mode = field("mode", "digit")
    if mode not in MODES:
        raise ApiError(400, f"Unknown mode {shortened(mode)}: use one of {', '.join(MODES)}.")
    return mode


def chosen_classifier() -> Classifier | None:
    """The model the request names (the best one when none is named), or a 400 naming the valid ones.

    None only when no model is named and none is loaded.
    """
    name = field("model")
    classifier = models().get(name)
    if name and classifier is None:
        raise unknown_model(name, 400)
    return classifier


def unknown_model(name: str, status: int) -> ApiError:
    """The refusal of a model name the server does not have: the names it has, or that it has none
    (a server whose model files are missing or broken would otherwise say "use one of .")."""
    if not models().names:
        return ApiError(status, f"Unknown model {shortened(name)}: no model is loaded on this server; "
                                f"see /api/health.")
    return ApiError(status, f"Unknown model {shortened(name)}: use one of {', '.join(models().names)}.")


def chosen_classifiers() -> list[Classifier]:
    """`model=all`: every loaded model, best first; otherwise the one chosen_classifier() names.

    A 503 when no model is loaded at all."""
    if not models().classifiers:
        raise ApiError(503, "No model is loaded on this server; see /api/health.")
    if field("model") == ALL_MODELS:
        return models().ordered()
    return [chosen_classifier()]


def digit_field(name: str, value: str | None) -> int:
    """A form or query value that must be exactly one digit 0-9."""
    if value is None or value not in {str(digit) for digit in range(CLASSES)}:
        raise ApiError(400, f"`{name}` must be one digit from 0 to 9, not {shortened(value)}."
                            if value else f"Say which digit it is: send `{name}` as one digit from 0 to 9.")
    return int(value)


def whole_number(name: str, default: int, smallest: int = 0, largest: int = LARGEST_COUNT) -> int:
    """A query-string count such as `limit`, `offset` or `page`, within its bounds; the digits are
    counted before converting, so thousands of them never reach int() (which refuses over 4,300)."""
    value = request.args.get(name, "")
    if value == "":
        return default
    is_number = value.isascii() and value.isdigit() and len(value) <= len(str(largest))
    if not is_number or not smallest <= int(value) <= largest:
        raise ApiError(400, f"`{name}` must be a whole number from {smallest} to {largest:,}, "
                            f"not {shortened(value)}.")
    return int(value)


def json_body():
    """The request's JSON body, or None when it sends no JSON (or JSON that does not parse), as Flask's
    `get_json(silent=True)`, but bounded: Python's parser goes one level deeper on its stack for each `[` or
    `{`, so `[` x 100,000 would end in a RecursionError (a 500), and megabytes would be parsed for nothing.
    Too large is a 413, too deep a 400, each with a sentence. Every JSON endpoint reads its body here."""
    if not request.is_json:
        return None
    data = request.get_data(cache=True) if (request.content_length or 0) <= JSON_MOST_BYTES else None
    if data is None or len(data) > JSON_MOST_BYTES:   # said to be too large, or sent without its length
        raise ApiError(413, f"The JSON body is too large: the API takes at most {size_in_words(JSON_MOST_BYTES)}.")
    if nested_deeper_than(data.decode("utf-8", errors="replace"), JSON_MOST_DEPTH):
        raise ApiError(400, f"The JSON body nests arrays and objects too deeply: at most {JSON_MOST_DEPTH} "
                            "inside one another.")
    try:
        return json.loads(data)
    except ValueError:
        return None


def nested_deeper_than(text: str, most: int) -> bool:
    """Do arrays and objects nest more than `most` deep (brackets inside strings do not count)? One pass
    over the quotes, escapes and brackets, without parsing: what the parser would recurse into, found first."""
    depth, in_string = 0, False
    for token in JSON_STRUCTURE.finditer(text):
        symbol = token.group()
        if symbol == '"':
            in_string = not in_string
        elif in_string or len(symbol) == 2:   # a bracket inside a string, or an escape
            continue
        elif symbol in "[{":
            depth += 1
            if depth > most:
                return True
        else:
            depth -= 1
    return False
