"""Words for children (issue 28): no technical term (conv2d_5, dropout, F1, epoch, cnn, ...) is the only label of
anything a student sees, in real Chromium: the drawing page with Compare and Look inside open, on a computer, a
phone and a projector, and the evaluation page. Every element that shows such a term shows plain words with it;
and a digit read aloud takes its article ("an 8")."""

from __future__ import annotations

import math
import re

import pytest
from playwright.sync_api import expect

from pad_strokes import SEVEN, draw_with_finger, draw_with_mouse, wait_for_answer

# Each a regular expression, matched as a whole word, case-insensitive.
JARGON = [r"conv2d\w*", r"batch[ _]normali[sz]ation\w*", r"batchnorm", r"dropout\w*", r"flatten\w*", r"dense\w*",
          r"logits?", r"softmax", r"sigmoid", r"epochs?", r"F1", r"max[ _]pooling\w*", r"pooling", r"activation_\w*",
          r"relu", r"reshape\w*", r"convolutions?", r"ECE", r"loss", r"precision", r"recall", r"support",
          r"temperature", r"parameters", r"cnn", r"mlp(?:-wide)?"]
# Words that do not name anything on their own.
STOP_WORDS = {"the", "and", "for", "per", "with", "its", "are", "was", "not", "but", "from", "this", "that", "all",
              "each", "one", "two", "has", "had", "how", "why"}
PLAIN_WORDS_NEEDED = 2

# The text of every visible "unit" of the page: the smallest list item, paragraph, caption, heading, cell, term,
# label, button, link, header or SVG text holding a visible text node (its whole text, technical names included), and
# every option of a visible select. Screen-reader-only text (1x1 pixel) is not seen.
VISIBLE_UNITS = """() => {
  const UNIT = "li, p, figcaption, h1, h2, h3, h4, h5, h6, th, td, dt, dd, caption, label, legend, summary, button, "
    + "a, header, text";
  const seen = (el) => {
    const box = el.getBoundingClientRect();
    return el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true }) && box.width > 1 && box.height > 1;
  };
  const units = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!node.data.trim() || !parent || parent.closest("script, style, noscript, select, title")) continue;
    if (seen(parent)) units.add(parent.closest(UNIT) ?? parent);
  }
  const texts = [...units].map((unit) => unit.innerText ?? unit.textContent);
  for (const select of document.querySelectorAll("select")) {
    if (seen(select)) texts.push(...[...select.options].map((option) => option.text));
  }
  return texts;
}"""

# A figure eight: one stroke, a lemniscate standing up (x = sin 2t, y = sin t).
EIGHT = [[(0.5 + 0.2 * math.sin(2 * t), 0.5 - 0.34 * math.sin(t))
          for t in (2 * math.pi * i / 48 for i in range(49))]]

SCREENS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True},
    "presenter": {"viewport": {"width": 1280, "height": 720}},
    "presenter-1024": {"viewport": {"width": 1024, "height": 768}},
}


def jargon_pattern(extra_names=()) -> re.Pattern:
    terms = JARGON + [re.escape(name) for name in extra_names]
    return re.compile(r"(?<![\w-])(?:" + "|".join(terms) + r")(?![\w-])", re.IGNORECASE)


def plain_words(text: str, jargon: re.Pattern) -> list[str]:
    """The words of `text` that are neither technical terms nor stop words (letters only, 3 or more)."""
    return [word for word in re.findall(r"[^\W\d_]{3,}", jargon.sub(" ", text)) if word.lower() not in STOP_WORDS]


def only_jargon(texts: list[str], jargon: re.Pattern) -> list[str]:
    """The texts that show a technical term without plain words next to it."""
    return [text for text in texts if jargon.search(text) and len(plain_words(text, jargon)) < PLAIN_WORDS_NEEDED]


@pytest.mark.parametrize("text", ["1. conv2d_5 convolution · 26×26×32", "F1", "Test loss", "ECE before",
                                  "Epochs", "cnn · 99.73%", "dropout_3", "Temperature"])
def test_the_rule_catches_a_bare_technical_label(text):
    assert only_jargon([text], jargon_pattern()) == [text]


@pytest.mark.parametrize("text", ["1. First look at strokes conv2d_5 · convolution · 26×26×32",
                                  "Balance of both F1", "The convolutional network · 99.73%", "Draw a digit"])
def test_the_rule_lets_plain_words_with_a_technical_name_pass(text):
    assert only_jargon([text], jargon_pattern()) == []


def layer_names(page) -> set[str]:
    """Every model's raw layer names (conv2d_6, dense_3, probabilities ...), from the API the pages use."""
    names = set()
    for model in page.context.request.get("/api/models").json():
        names |= {layer["name"] for layer in page.context.request.get(f"/api/explain/{model['name']}").json()["layers"]}
    return names


def assert_plain(page):
    bare = only_jargon(page.evaluate(VISIBLE_UNITS), jargon_pattern(layer_names(page)))
    assert not bare, "shown without plain words:\n" + "\n".join(map(repr, bare))


def wait_for_inside(page):
    expect(page.locator("#inside")).to_have_attribute("aria-busy", "false")
    expect(page.locator("[data-part='heat']")).to_have_attribute("data-drawn", "true")
    expect(page.locator(".inside-neighbour")).to_have_count(8)


@pytest.mark.parametrize("screen", SCREENS)
def test_the_drawing_page_names_everything_in_plain_words(open_page, screenshot_dir, screen):
    page = open_page("/", **SCREENS[screen])
    if screen.startswith("presenter"):
        page.keyboard.press("p")
        page.keyboard.press("Escape")
    page.get_by_role("checkbox", name="Compare all models").check()
    page.evaluate("window.scrollTo(0, 0)")   # the switch is below the pad on a phone
    (draw_with_finger if screen == "phone" else draw_with_mouse)(page, SEVEN)
    wait_for_answer(page)
    expect(page.locator(".compare-card strong").first).to_have_text("7")
    page.locator("#look-inside").click()
    wait_for_inside(page)
    page.screenshot(path=screenshot_dir / f"plain-inside-{screen}.png", full_page=not screen.startswith("presenter"))
    assert_plain(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREENS[screen]["viewport"]["width"]


def test_the_evaluation_page_names_every_score_in_plain_words(open_page, screenshot_dir):
    page = open_page("/evaluation", viewport={"width": 1400, "height": 900})
    page.wait_for_selector("#evaluation[data-ready='true']")
    card = page.locator("[data-topic='wrong'] .model-card").first
    card.locator(".why-button").first.click()
    expect(card.locator(".why-pair canvas[data-drawn='true']")).to_have_count(2)
    matrix = page.locator("[data-topic='confusion'] .model-card").first
    matrix.locator(".cell[data-true='3'][data-predicted='3']").click()
    page.screenshot(path=screenshot_dir / "plain-evaluation.png", full_page=True)
    assert_plain(page)


def test_an_eight_is_an_8(open_page):
    page = open_page("/")
    draw_with_mouse(page, EIGHT)
    wait_for_answer(page)
    expect(page.locator("#answer-digit")).to_have_text("8")
    expect(page.locator("#status")).to_have_text(re.compile(r"^(It's an 8\.|Not sure\. Maybe an 8, maybe an? \d\?)$"))


def test_numbers_take_the_article_they_are_read_with(open_page):
    page = open_page("/")
    spoken = page.evaluate("""async () => {
      const { withArticle } = await import("/static/js/words.js");
      return [0, 1, 7, 8, 11, 18, 80, 110, 800, 1100, 11000, 18500, 180000].map(withArticle);
    }""")
    assert spoken == ["a 0", "a 1", "a 7", "an 8", "an 11", "an 18", "an 80", "a 110", "an 800", "a 1100",
                      "an 11000", "an 18500", "a 180000"]
