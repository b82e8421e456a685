"""What an answer or a log line may repeat of a client's input: a short piece, never all of it.

A client can put hundreds of kilobytes in one form field, query value or path; echoing it
whole would turn a cheap bad request into a large answer and a larger log line."""

from __future__ import annotations

SHOWN_CHARACTERS = 40


def shortened(value: str, limit: int = SHOWN_CHARACTERS, quote=repr) -> str:
    """`value` quoted by `quote`, cut to its first `limit` characters and marked with "…" when cut."""
    return quote(value[:limit]) + ("…" if len(value) > limit else "")
