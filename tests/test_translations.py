"""The shipped catalogs: every message the code shows (extracted afresh from the sources, as
`make translations-extract` does) has a translation in every shipped language, with the same placeholders,
and every plural form written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.pofile import read_po

from webapp.http.language import DEFAULT, LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "webapp" / "translations"
DOMAINS = {"messages": ["-F", "babel.cfg", "-k", "N_"], "js": ["-F", "babel-js.cfg", "-k", "t", "-k", "tn:1,2"]}
SHIPPED = [code for code in LANGUAGES if code != DEFAULT]
PLACEHOLDER = {"messages": re.compile(r"%\(\w+\)[sd]|%[sd]"), "js": re.compile(r"\{\w+\}")}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> dict[str, dict]:
    """Each domain's messages as the sources hold them now: {domain: {msgid: message}}."""
    folder = tmp_path_factory.mktemp("pot")
    found = {}
    for domain, options in DOMAINS.items():
        pot = folder / f"{domain}.pot"
        subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", *options,
                        "--no-location", "-o", str(pot), "."], cwd=ROOT, check=True)
        with pot.open("rb") as file:
            found[domain] = {message.id if isinstance(message.id, str) else message.id[0]: message
                             for message in read_po(file) if message.id}
    return found


def catalog(code: str, domain: str):
    with (TRANSLATIONS / code / "LC_MESSAGES" / f"{domain}.po").open("rb") as file:
        return read_po(file, locale=code)


def test_the_sources_have_messages_to_translate(extracted):
    assert len(extracted["messages"]) > 100 and len(extracted["js"]) > 200
    assert "Draw" in extracted["messages"]
    assert "The server could not be reached. Check the connection and try again." in extracted["js"]


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("code", SHIPPED)
def test_every_message_has_a_translation(extracted, code, domain):
    translations = catalog(code, domain)
    missing = []
    for msgid in extracted[domain]:
        message = translations.get(msgid)
        strings = [] if message is None else ([message.string] if isinstance(message.string, str)
                                               else list(message.string))
        if message is None or message.fuzzy or not strings or not all(s.strip() for s in strings):
            missing.append(msgid)
    assert missing == [], f"{len(missing)} messages without a {code} translation in {domain}.po"


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("code", SHIPPED)
def test_translations_keep_the_placeholders(extracted, code, domain):
    pattern = PLACEHOLDER[domain]
    wrong = []
    for message in catalog(code, domain):
        if not message.id or message.id not in extracted[domain] and not isinstance(message.id, tuple):
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        wanted = set(pattern.findall(ids[-1]))
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        for text in strings:
            # A plural form may leave out {n} / %(num)d (Arabic's "one" and "two" say the number in words).
            given = set(pattern.findall(text))
            if given - wanted or (wanted - given) - {"{n}", "%(num)d", "%(num)s"}:
                wrong.append((ids[0], text))
    assert wrong == []


@pytest.mark.parametrize("code", SHIPPED)
def test_every_plural_form_of_the_language_is_written(code):
    for domain in DOMAINS:
        translations = catalog(code, domain)
        assert translations.num_plurals == len(Locale.parse(code).plural_form.rules) + 1   # CLDR: one, other, ...
        for message in translations:
            if message.id and message.pluralizable:
                assert len(message.string) == translations.num_plurals, message.id
