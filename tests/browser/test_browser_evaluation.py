"""The evaluation page in real headless Chromium, drawn from the models' real reports."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from live_server import serve
from support import make_app


def open_evaluation(open_page, **options):
    page = open_page("/evaluation", **options)
    page.wait_for_selector("#evaluation[data-ready='true']")
    return page


@pytest.fixture(scope="module")
def reports(app):
    client = app.test_client()
    names = [model["name"] for model in client.get("/api/models").get_json()]
    return {name: client.get(f"/api/reports/{name}").get_json() for name in names}


def test_every_model_is_shown_with_its_test_accuracy(open_page, reports):
    page = open_evaluation(open_page)
    cards = page.locator("[data-topic='scores'] .model-card")
    assert [cards.nth(i).get_attribute("data-model") for i in range(cards.count())] == list(reports)
    for name, report in reports.items():
        card = page.locator(f"[data-topic='scores'] .model-card[data-model='{name}']")
        assert card.locator(".accuracy-value").text_content() == f"{report['test_accuracy'] * 100:.2f}%"
        assert f"{report['test_errors']:,} of 10,000" in card.locator(".errors").text_content()
        facts = card.locator(".facts").inner_text()
        assert f"{report['params']:,}" in facts and str(report["epochs"]) in facts


def test_each_confusion_matrix_has_100_cells_holding_the_report_counts(open_page, reports):
    page = open_evaluation(open_page)
    for name, report in reports.items():
        cells = page.locator(f"[data-topic='confusion'] .model-card[data-model='{name}'] .cell")
        assert cells.count() == 100
        texts = cells.all_text_contents()
        counts = [value for row in report["confusion_matrix"] for value in row]
        assert texts == [str(value) if value else "" for value in counts]


def test_clicking_an_off_diagonal_cell_shows_the_misread_test_digits(open_page, reports):
    page = open_evaluation(open_page)
    name, report = next(iter(reports.items()))
    matrix = report["confusion_matrix"]
    true, predicted = max(((t, p) for t in range(10) for p in range(10) if t != p), key=lambda c: matrix[c[0]][c[1]])
    card = page.locator(f"[data-topic='confusion'] .model-card[data-model='{name}']")
    card.locator(f".cell[data-true='{true}'][data-predicted='{predicted}']").click()

    digits = card.locator(".cell-detail .digit")
    assert digits.count() == min(matrix[true][predicted], 60) > 0
    assert digits.first.locator("figcaption strong").text_content() == f"{true} → {predicted}"
    assert f"said {predicted}:" in digits.first.locator("figcaption").text_content()
    assert digits.first.locator("img").evaluate("img => img.complete && img.naturalWidth") == 28


def test_clicking_a_diagonal_cell_shows_right_answers(open_page, reports):
    page = open_evaluation(open_page)
    name = next(iter(reports))
    card = page.locator(f"[data-topic='confusion'] .model-card[data-model='{name}']")
    card.locator(".cell[data-true='3'][data-predicted='3']").click()
    digits = card.locator(".cell-detail .digit.right")
    assert digits.count() > 0
    assert set(digits.locator("figcaption strong").all_text_contents()) == {"a 3"}


def test_training_curves_per_class_table_and_galleries_are_drawn(open_page, reports):
    page = open_evaluation(open_page)
    for name, report in reports.items():
        epochs = len(report["history"]["loss"])
        curves = page.locator(f"[data-topic='curves'] .model-card[data-model='{name}']")
        assert curves.locator("svg.line-chart").count() == 2
        assert curves.locator("svg.line-chart").first.locator("circle.train").count() == epochs
        table = page.locator(f"[data-topic='per-class'] .model-card[data-model='{name}'] table.per-class tbody tr")
        assert table.count() == 10
        wrong = page.locator(f"[data-topic='wrong'] .model-card[data-model='{name}'] .digit.wrong")
        assert wrong.count() == min(12, len(report["misclassified"]))
    assert page.locator("[data-topic='samples'] .digit").count() == len(next(iter(reports.values()))["sample_grid"])


@pytest.fixture()
def server_with_a_model_without_report(app, tmp_path):
    """A second live app whose only model has lost its report file."""
    source = Path(app.config["MODEL_DIR"])
    name = app.extensions["models"].names[0]
    shutil.copy(source / f"{name}.tflite", tmp_path / f"{name}.tflite")
    url, stop = serve(make_app(tmp_path / "drawings.sqlite", MODEL_DIR=str(tmp_path)))
    yield url, name
    stop()


def test_a_model_without_a_report_is_named_instead_of_crashing(open_page, browser_problems,
                                                               server_with_a_model_without_report):
    url, name = server_with_a_model_without_report
    browser_problems.expect("status of 404")   # the page asks for the report and is told there is none
    page = open_evaluation(open_page, base_url=url)
    notices = page.locator(f".model-card[data-model='{name}'] .notice")
    assert notices.count() == 8   # one per topic
    assert "has no evaluation report" in notices.first.text_content()


@pytest.fixture()
def server_without_models(tmp_path):
    url, stop = serve(make_app(tmp_path / "drawings.sqlite", MODEL_DIR=str(tmp_path)))
    yield url
    stop()


@pytest.mark.parametrize("path", ["/", "/evaluation"])
def test_without_any_model_both_pages_say_so(open_page, server_without_models, path):
    page = open_page(path, base_url=server_without_models)
    assert "No trained model is loaded" in page.locator(".notice").first.text_content()


def test_each_model_shows_its_calibration_before_and_after(open_page, reports):
    page = open_evaluation(open_page)
    cards = page.locator("[data-topic='calibration'] .model-card")
    expect(cards).to_have_count(len(reports))
    for name, report in reports.items():
        card = page.locator(f"[data-topic='calibration'] .model-card[data-model='{name}']")
        test = report["calibration"]["test"]
        expect(card.locator(".ece-before")).to_have_text(f"{test['before']['ece'] * 100:.2f}%")
        expect(card.locator(".ece-after")).to_have_text(f"{test['after']['ece'] * 100:.2f}%")
        assert card.locator(".reliability-chart circle.after").count() == len(test["after"]["bins"])
        assert card.locator(".reliability-chart circle.before").count() == len(test["before"]["bins"])
        assert test["after"]["ece"] <= 0.01


def test_each_model_shows_how_it_reads_the_worlds_handwriting_styles(open_page, reports):
    page = open_evaluation(open_page)
    for name, report in reports.items():
        card = page.locator(f"[data-topic='styles'] .model-card[data-model='{name}']")
        rows = card.locator(".style-table tbody tr")
        assert rows.count() == 8
        shown = {rows.nth(i).get_attribute("data-style"): rows.nth(i).locator("td").inner_text()
                 for i in range(8)}
        written = {0: "0%", 1: "100%"}   # the page's percent(): the exact ends without decimals
        assert shown == {style: written.get(share, f"{share * 100:.1f}%")
                         for style, share in report["styles"]["accuracy"].items()}
        low = card.locator("td.low").count()
        assert low == sum(share < 0.97 for share in report["styles"]["accuracy"].values())
        per_style = report["styles"]["trained_per_style"]
        assert (f"It learnt from {per_style} drawings of each style" if per_style
                else "never saw drawings in these styles") in card.inner_text()
