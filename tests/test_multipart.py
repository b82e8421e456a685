"""webapp/multipart.py finds exactly what Werkzeug's compiled boundary patterns find."""

from __future__ import annotations

import io
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug import formparser
from werkzeug.sansio import multipart as werkzeug_multipart
from werkzeug.test import EnvironBuilder

from webapp import multipart

BOUNDARIES = [b"----WebKitFormBoundary7MA4YWxkTrZu0gW", b"---------------WerkzeugFormPart_1795.5", b"a b",
              b"-", b"x"]
PIECES = [b"\r\n", b"\r", b"\n", b"--", b"-", b" ", b"\t", b"x", b"data", b"\r\n\r\n"]


def werkzeug_patterns(boundary: bytes):
    """The two patterns as Werkzeug's MultipartDecoder.__init__ compiles them."""
    line_break, escaped = werkzeug_multipart.LINE_BREAK, re.escape(boundary)
    preamble = re.compile(rb"%s?--%s(--[^\S\n\r]*%s?|[^\S\n\r]*%s)" % (line_break, escaped, line_break, line_break),
                          re.MULTILINE)
    between = re.compile(rb"%s--%s(--[^\S\n\r]*%s?|[^\S\n\r]*%s)" % (line_break, escaped, line_break, line_break),
                         re.MULTILINE)
    return preamble, between


def same_match(ours, theirs):
    if theirs is None:
        return ours is None
    return ours is not None and (ours.start(), ours.end(), ours.group(1)) == (theirs.start(), theirs.end(),
                                                                            theirs.group(1))


@settings(max_examples=3000, deadline=None)
@given(boundary=st.sampled_from(BOUNDARIES), data=st.data())
def test_finder_matches_werkzeugs_patterns_on_random_bodies(boundary, data):
    pieces = PIECES + [boundary, b"--" + boundary, boundary[: max(1, len(boundary) // 2)]]
    buffer = b"".join(data.draw(st.lists(st.sampled_from(pieces), max_size=14)))
    position = data.draw(st.integers(0, len(buffer)))
    preamble, between = werkzeug_patterns(boundary)
    for finder, pattern in ((multipart.BoundaryFinder(boundary, line_break_first=False), preamble),
                            (multipart.BoundaryFinder(boundary, line_break_first=True), between)):
        assert same_match(finder.search(buffer, position), pattern.search(buffer, position)), (buffer, position)
        assert same_match(finder.search(bytearray(buffer)), pattern.search(bytearray(buffer)))


def body_with_tricky_parts():
    """A form whose file holds line breaks, dashes and near-boundaries."""
    payload = b"\r\n--not-the-boundary\r\n" + bytes(range(256)) * 40 + b"\r\n--\r\n-- \r\n"
    return {"image": (io.BytesIO(payload), "drawing.png"), "model": "cnn", "mode": "number", "note": "a\r\nb--c"}


def parsed(decoder):
    original = formparser.MultipartDecoder
    formparser.MultipartDecoder = decoder
    try:
        builder = EnvironBuilder(method="POST", data=body_with_tricky_parts(), content_type="multipart/form-data")
        _, form, files = formparser.parse_form_data(builder.get_environ())
        return dict(form), {name: (upload.filename, upload.read()) for name, upload in files.items()}
    finally:
        formparser.MultipartDecoder = original


def test_forms_parse_exactly_as_with_werkzeugs_own_decoder():
    ours = parsed(multipart.MultipartDecoder)
    assert ours == parsed(werkzeug_multipart.MultipartDecoder)
    assert ours[0] == {"model": "cnn", "mode": "number", "note": "a\r\nb--c"}


def test_the_app_parses_uploads_with_this_decoder(app):
    assert formparser.MultipartDecoder is multipart.MultipartDecoder


def test_decoder_reads_a_body_delivered_in_small_chunks():
    boundary = b"----WebKitFormBoundaryAbC"
    body = (b"--" + boundary + b"\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n"
            b"Content-Type: image/png\r\n\r\n" + b"\x89PNG\r\n--" + b"x" * 300 + b"\r\n--" + boundary + b"--\r\n")
    decoder = multipart.MultipartDecoder(boundary)
    events, data = [], b""
    for start in range(0, len(body), 7):
        decoder.receive_data(body[start:start + 7])
        event = decoder.next_event()
        while not isinstance(event, (werkzeug_multipart.NeedData, werkzeug_multipart.Epilogue)):
            events.append(type(event).__name__)
            if isinstance(event, werkzeug_multipart.Data):
                data += event.data
            event = decoder.next_event()
    decoder.receive_data(None)
    assert events[:2] == ["Preamble", "File"]
    assert data == b"\x89PNG\r\n--" + b"x" * 300
    assert isinstance(decoder.next_event(), werkzeug_multipart.Epilogue)
