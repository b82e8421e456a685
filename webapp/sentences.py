"""Sentences for people: written in English where a refusal is made, translated where it is answered.

`N_("...")` marks a sentence for the catalogs (pybabel extract) without translating it: the refusal does not
know the language of the request, the error handler does (webapp/http/errors.py, `translated`). Variable parts
are `%(name)s` with their values as keywords, so a translation can put them where its grammar wants them:

    raise ImageRejected(N_("The image is %(width)sx%(height)s pixels."), status=413, width=w, height=h)
"""

from __future__ import annotations


def N_(message: str) -> str:
    return message


class Count(int):
    """A number a sentence writes with its thousands grouped: "16,000,000" in English, and the request's
    language's way where the sentence is translated ("16.000.000" in German); ids stay plain ints."""

    def __str__(self) -> str:
        return f"{int(self):,}"


class Sentence(Exception):
    """An exception whose text is an English sentence for a person, kept with its template and values."""

    def __init__(self, message: str, **values):
        super().__init__(message % values if values else message)
        self.template, self.values = message, values
