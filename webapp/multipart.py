"""Werkzeug's multipart decoder without compiling two regular expressions per request.

Werkzeug finds the parts of a multipart body with two patterns that spell out the
request's boundary. Browsers pick a fresh random boundary for every upload, so
Python's pattern cache never helps, and compiling both took 0.33 ms of a 3 ms
prediction on this machine. `BoundaryFinder` finds exactly what those patterns
find (tests/test_multipart.py compares them on random bodies): it looks for the
boundary with `bytes.find` and checks what surrounds it with patterns compiled once.
`install()` makes Werkzeug's form parser use this decoder; everything else about
parsing (limits, headers, streaming) stays Werkzeug's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from werkzeug import formparser
from werkzeug.sansio import multipart

LINE_BREAKS = (b"\r\n", b"\n", b"\r")        # Werkzeug's LINE_BREAK, in its order
# What may follow the boundary: "--" (the last one) or a line break, after optional blanks.
AFTER_BOUNDARY = re.compile(rb"(--[^\S\n\r]*%s?|[^\S\n\r]*%s)" % (multipart.LINE_BREAK, multipart.LINE_BREAK))


@dataclass(frozen=True)
class BoundaryMatch:
    """The parts of a `re.Match` that the decoder reads."""

    begin: int
    finish: int
    after: bytes

    def start(self) -> int:
        return self.begin

    def end(self) -> int:
        return self.finish

    def group(self, index: int) -> bytes:
        if index != 1:
            raise IndexError(index)
        return self.after


class BoundaryFinder:
    """`search` like Werkzeug's compiled `[line break]--<boundary>(--... | line break)` pattern;
    `line_break_first` says whether the line break before the boundary is required
    (between parts) or optional (the first boundary, after the preamble)."""

    def __init__(self, boundary: bytes, line_break_first: bool):
        self.dashed = b"--" + boundary
        self.line_break_first = line_break_first

    def search(self, buffer: bytes | bytearray, position: int = 0) -> BoundaryMatch | None:
        found = buffer.find(self.dashed, position)
        while found != -1:
            after = AFTER_BOUNDARY.match(buffer, found + len(self.dashed))
            begin = self.line_break_before(buffer, found, position)
            if after is not None and (begin is not None or not self.line_break_first):
                return BoundaryMatch(found if begin is None else begin, after.end(), after.group(1))
            found = buffer.find(self.dashed, found + 1)
        return None

    @staticmethod
    def line_break_before(buffer: bytes | bytearray, found: int, position: int) -> int | None:
        """Where the line break just before `found` starts (not before `position`), if there is one."""
        for line_break in LINE_BREAKS:
            begin = found - len(line_break)
            if begin >= position and buffer[begin:found] == line_break:
                return begin
        return None


class MultipartDecoder(multipart.MultipartDecoder):
    def __init__(self, boundary: bytes, max_form_memory_size: int | None = None, *,
                 max_parts: int | None = None) -> None:
        # Werkzeug sets up its state with a constant boundary (its patterns then come from
        # Python's cache), then the real boundary and the finders take their place.
        super().__init__(b"boundary", max_form_memory_size, max_parts=max_parts)
        self.boundary = boundary
        self.preamble_re = BoundaryFinder(boundary, line_break_first=False)
        self.boundary_re = BoundaryFinder(boundary, line_break_first=True)


def install() -> None:
    """Make Werkzeug's form parser (request.files, request.form) use this decoder."""
    formparser.MultipartDecoder = MultipartDecoder
