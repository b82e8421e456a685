"""Every page in every shipped language, in real Chromium: no English left, nothing cut or overlapping in the
long words of German and the right-to-left layout of Arabic, numbers written the locale's way, and the
teacher's language for the whole class.

Screenshots go to a temporary folder, or to the folder named by DIGITDRAW_SCREENSHOTS.
"""

from __future__ import annotations

import io
import re

import pytest

from benchmarks.styled_digits import styled_digits
from pad_strokes import SEVEN, draw_with_finger, draw_with_mouse, wait_for_answer
from support import TEACHER_TOKEN
from teacher_pages import open_wall, sign_in

LANGUAGES = ["es", "fr", "de", "pt-BR", "ar"]
STUDENT_PAGES = ["/", "/evaluation", "/join", "/teacher"]
TEACHER_PAGES = ["/teacher", "/wall", "/drawings"]
# Names, not words: the same in every language.
NAMES = {"Digit Draw", "MNIST", "cnn", "mlp", "mlp-wide", "CNN", "QR", "PNG", "CSV", "ZIP", "NPZ", "ECE", "Esc",
         "min"}   # the unit symbol, the same in every language written in Latin letters
# Words written the same in English and in that language (checked by a speaker of each, not guessed).
SAME_WORD = {
    "de": {"Start", "Version", "Modell", "Name", "Tablet", "Feedback"},
    "fr": {"Version", "Date", "Modes", "Position"},
    "es": {"Error"},
    "pt-BR": {"Original"},
    "ar": set(),
}
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
# Not words either: addresses (the join address), the style benchmark's ids (flag-1), settings' names.
NAME_PATTERN = re.compile(r"https?://\S+|[a-z]+-\d|[A-Z][A-Z0-9_]{3,}")

TEXTS = """() => {
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.replace(/\\s+/g, " ").trim();
    // Names are not words to translate: the languages in the picker (each in its own words), code and keys.
    const parent = node.parentElement;
    const otherLanguage = parent.closest("[lang]") !== document.documentElement;   // a language's own name
    if (text && !otherLanguage && !parent.closest("script, style, noscript, svg title, #language-picker, code, kbd"))
      texts.push(text);
  }
  for (const element of document.querySelectorAll("[aria-label], [title], [placeholder], [alt]")) {
    for (const name of ["aria-label", "title", "placeholder", "alt"]) {
      const value = (element.getAttribute(name) || "").trim();
      if (value) texts.push(value);
    }
  }
  texts.push(document.title);
  for (const meta of document.querySelectorAll("meta[name=description]")) texts.push(meta.content);
  return texts;
}"""


def page_texts(page) -> set[str]:
    page.wait_for_load_state("networkidle")
    return set(page.evaluate(TEXTS))


def english_left(english: set[str], translated: set[str], language: str) -> list[str]:
    """Texts of the translated page that are also on the English page and hold an English word."""
    allowed = NAMES | SAME_WORD[language]
    left = []
    for text in sorted(translated & english):
        words = [word for word in LATIN_WORD.findall(NAME_PATTERN.sub(" ", text)) if word not in allowed]
        if words and text not in allowed:
            left.append(text)
    return left


def untranslated_markers(texts: set[str]) -> list[str]:
    """Placeholders a translation lost or a message id shown as it is in the catalog."""
    return sorted(text for text in texts if re.search(r"\{\w+\}|%\(\w+\)|%s|\bmsgid\b", text))


def open_in(browser, url, language, browser_problems, **options):
    context = browser.new_context(base_url=url, locale=language, reduced_motion="reduce", **options)
    page = context.new_page()
    browser_problems.watch(page)
    return context, page


def texts_of(browser, url, language, path, browser_problems, teacher=False, draw=False):
    context, page = open_in(browser, url, language, browser_problems, viewport={"width": 1280, "height": 800})
    try:
        if teacher:
            sign_in(page)
        page.goto(path)
        if path == "/evaluation":
            page.wait_for_selector("#evaluation[data-ready='true']")
        if draw:
            draw_with_mouse(page, SEVEN)
            wait_for_answer(page)
        return page_texts(page), page.evaluate("[document.documentElement.lang, document.documentElement.dir]")
    finally:
        context.close()


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_shows_no_english_left(browser, feedback_app, browser_problems, language):
    url, _ = feedback_app()
    visits = [(path, False, False) for path in STUDENT_PAGES] + [("/", False, True)]
    visits += [(path, True, False) for path in TEACHER_PAGES]
    problems = {}
    for path, teacher, draw in visits:
        english, _ = texts_of(browser, url, "en-US", path, browser_problems, teacher, draw)
        translated, (lang, direction) = texts_of(browser, url, language, path, browser_problems, teacher, draw)
        assert lang == language and direction == ("rtl" if language == "ar" else "ltr"), path
        found = english_left(english, translated, language) + untranslated_markers(translated)
        if found:
            problems[f"{path}{' (teacher)' if teacher else ''}{' (drawn)' if draw else ''}"] = found
    assert problems == {}, "\n".join(f"{page}: {found}" for page, found in problems.items())


LAYOUTS = {
    "presenter-1024x768": {"viewport": {"width": 1024, "height": 768}},
    "presenter-1280x720": {"viewport": {"width": 1280, "height": 720}},
    "phone-360x740": {"viewport": {"width": 360, "height": 740}, "has_touch": True, "is_mobile": True},
}

CUT_OR_OVERLAPPING = """() => {
  const problems = [];
  const visible = (element) => {
    const box = element.getBoundingClientRect();
    const style = getComputedStyle(element);
    // 1 pixel or less: hidden for the eye, kept for screen readers (the brand's name on a phone).
    return box.width > 1 && box.height > 1 && style.visibility !== "hidden" && style.display !== "none";
  };
  // Text cut: an element that hides its overflow but holds more than it shows.
  for (const element of document.querySelectorAll("body *")) {
    // (A long nickname ends in "…" on a small wall tile in every language: names, not words.)
    const skipped = "canvas, svg, svg *, img, input, select, textarea, .visually-hidden, .tile-nickname";
    if (!visible(element) || element.matches(skipped)) continue;
    const style = getComputedStyle(element);
    const hides = ["hidden", "clip"].includes(style.overflowX) || style.textOverflow === "ellipsis";
    if (hides && element.scrollWidth > element.clientWidth + 1 && element.textContent.trim())
      problems.push(`cut: ${element.tagName.toLowerCase()}.${element.className} `
                    + `"${element.textContent.trim().slice(0, 40)}"`);
  }
  // Words wider than their control (a long German word in a phone's button).
  for (const element of document.querySelectorAll("button, .button, label, h1, h2, h3, th, td, .site-nav a")) {
    if (!visible(element) || element.clientWidth === 0 || element.closest("dialog:not([open])")) continue;
    const over = element.scrollWidth - element.clientWidth;
    if (over > 1) problems.push(`overflows by ${over}: "${element.textContent.trim().slice(0, 40)}"`);
  }
  // Controls overlapping each other: buttons, links, labels, headings, the picker.
  // (A wall tile's × sits on its corner on purpose.)
  const controls = [...document.querySelectorAll("button, a, label, h1, h2, h3, select, .brand")]
    .filter(visible).filter((element) => !element.closest("dialog:not([open])") && !element.matches(".tile-hide"));
  for (let i = 0; i < controls.length; i += 1) {
    for (let j = i + 1; j < controls.length; j += 1) {
      const [a, b] = [controls[i], controls[j]];
      if (a.contains(b) || b.contains(a)) continue;
      const p = a.getBoundingClientRect(), q = b.getBoundingClientRect();
      const overlap = Math.min(p.right, q.right) - Math.max(p.left, q.left) > 2
        && Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top) > 2;
      const [first, second] = [a, b].map((element) => element.textContent.trim().slice(0, 30));
      if (overlap) problems.push(`overlap: "${first}" and "${second}"`);
    }
  }
  const width = document.documentElement.scrollWidth;
  if (width > innerWidth) problems.push(`wider than the screen: ${width}`);
  return problems;
}"""


# German's long words and Arabic's right to left at every size; the other languages on the narrowest screen.
FITS = [(language, layout) for language in ("de", "ar") for layout in LAYOUTS]
FITS += [(language, "phone-360x740") for language in ("es", "fr", "pt-BR")]


@pytest.mark.parametrize("language, layout", FITS)
def test_long_words_and_right_to_left_fit(browser, feedback_app, browser_problems, screenshot_dir, language, layout):
    url, _ = feedback_app()
    context, page = open_in(browser, url, language, browser_problems, **LAYOUTS[layout])
    try:
        page.goto("/")
        if layout.startswith("presenter"):
            page.keyboard.press("p")
            page.keyboard.press("Escape")   # the join QR code presenter mode opens with
            draw_with_mouse(page, SEVEN)
        else:
            draw_with_finger(page, SEVEN)
        wait_for_answer(page)
        page.screenshot(path=screenshot_dir / f"language-{language}-{layout}.png")
        assert page.evaluate(CUT_OR_OVERLAPPING) == []
        # The pad and the digits are not mirrored in a right-to-left page.
        assert page.evaluate("getComputedStyle(document.querySelector('#pad')).direction") == "ltr"
        assert page.evaluate("getComputedStyle(document.querySelector('#bars')).direction") == "ltr"
        if layout.startswith("phone"):
            page.goto("/evaluation")
            page.wait_for_selector("#evaluation[data-ready='true']")
            page.screenshot(path=screenshot_dir / f"language-{language}-{layout}-evaluation.png", full_page=True)
            assert page.evaluate(CUT_OR_OVERLAPPING) == []
    finally:
        context.close()


def send_a_round(app) -> None:
    """An "any digit" round with twelve drawings from six devices, as the wall shows a class's."""
    teacher = {"Authorization": f"Bearer {TEACHER_TOKEN}"}
    round_id = app.test_client().post("/api/rounds", json={"kind": "any"}, headers=teacher).get_json()["id"]
    devices = [app.test_client() for _ in range(6)]
    styles = ("bar-7", "open-4", "loop-2", "stem-9", "cross-8", "serif-1")
    drawings = [drawing for style in styles for drawing in styled_digits(style, 2, seed=5)]
    for index, drawing in enumerate(drawings):
        sent = devices[index % 6].post(f"/api/rounds/{round_id}/drawings",
                                       data={"image": (io.BytesIO(drawing.png), "d.png"), "label": str(drawing.label)},
                                       environ_base={"REMOTE_ADDR": f"10.3.0.{index % 6}"})
        assert sent.status_code == 201, sent.get_json()


@pytest.mark.parametrize("size", [(1024, 768), (1280, 720)])
@pytest.mark.parametrize("language", ["de", "ar"])
def test_the_wall_fits_a_projector_in_long_words_and_right_to_left(browser, feedback_app, browser_problems,
                                                                   screenshot_dir, language, size):
    url, app = feedback_app(TEACHER_TOKEN=TEACHER_TOKEN)
    send_a_round(app)
    context, wall = open_wall(browser, url, browser_problems, locale=language,
                              viewport={"width": size[0], "height": size[1]})
    try:
        wall.wait_for_selector("#wall-tiles .tile >> nth=11")
        wall.wait_for_load_state("networkidle")
        assert wall.evaluate("document.documentElement.lang") == language
        wall.screenshot(path=screenshot_dir / f"language-{language}-wall-{size[0]}.png")
        assert wall.evaluate(CUT_OR_OVERLAPPING) == []
    finally:
        context.close()


@pytest.mark.parametrize("language, percentage, thousands", [
    ("de", r"99,\d\d\s%", r"10\.000"),           # German: decimal comma, a space before %, a point for thousands
    # Arabic as CLDR writes "ar" (Chromium's Intl, Babel on the server): Western digits, the percent sign held
    # left to right by marks so it stays after the number in a right-to-left sentence.
    ("ar", "99\\.\\d\\d\u200e%\u200e", r"10,000"),
])
def test_percentages_and_counts_are_written_the_locales_way(browser, feedback_app, browser_problems, language,
                                                             percentage, thousands):
    url, _ = feedback_app()
    context, page = open_in(browser, url, language, browser_problems)
    try:
        page.goto("/evaluation")
        page.wait_for_selector("#evaluation[data-ready='true']")
        text = page.locator("#evaluation").inner_text()
        assert re.search(percentage, text), text[:400]
        assert re.search(thousands, text), text[:400]
        assert not re.search(r"\b99\.\d\d%", text)   # never the English way
    finally:
        context.close()


def test_the_teacher_fixes_the_class_s_language_for_every_device(browser, feedback_app, browser_problems,
                                                                  screenshot_dir):
    url, _ = feedback_app()
    teacher_context, teacher = open_in(browser, url, "en-US", browser_problems)
    phone_context, phone = open_in(browser, url, "fr-FR", browser_problems, **LAYOUTS["phone-360x740"])
    try:
        sign_in(teacher)
        teacher.goto("/teacher")
        with teacher.expect_navigation():   # the page reloads in the class's language
            teacher.locator("#class-language").select_option("de")
        assert teacher.evaluate("document.documentElement.lang") == "de"
        assert teacher.locator("#class-language").input_value() == "de"
        teacher.screenshot(path=screenshot_dir / "language-teacher-de.png", full_page=True)

        phone.goto("/")   # a French browser gets German, and its picker is locked
        assert phone.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["de", "ltr"]
        assert phone.locator("#language-picker").is_disabled()

        with teacher.expect_navigation():
            teacher.locator("#class-language").select_option("")
        assert teacher.evaluate("document.documentElement.lang") == "en"   # the teacher's browser's own again
        phone.reload()
        assert phone.evaluate("document.documentElement.lang") == "fr"
        assert phone.locator("#language-picker").is_enabled()
    finally:
        teacher_context.close()
        phone_context.close()
