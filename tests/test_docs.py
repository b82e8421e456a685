"""The docs say what the code does: the README's configuration table is the settings' own, and its figures
about the shipped models are their reports' (model/*.json, which the evaluation page shows)."""

import json
import re
from pathlib import Path

from webapp import settings

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_lists_every_setting_with_its_default():
    assert settings.markdown_table() in (ROOT / "README.md").read_text()


def test_the_api_docs_name_every_refusal_status():
    api = (ROOT / "docs" / "API.md").read_text()
    for status in ("400", "403", "404", "405", "408", "413", "415", "429", "503", "507"):
        assert f"{status} " in api, status
    assert "Retry-After" in api


def shipped_reports() -> dict[str, dict]:
    return {path.stem: json.loads(path.read_text()) for path in sorted((ROOT / "model").glob("*.json"))
            if not path.name.endswith(".explain.json")}


def readme_results() -> dict[str, list[str]]:
    """The README's Results table: each model's cells, bold marks dropped."""
    lines = (ROOT / "README.md").read_text().splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("| model | test accuracy |"))
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip().replace("**", "") for cell in line.strip("|").split("|")]
        rows[re.match(r"`([\w-]+)`", cells[0]).group(1)] = cells[1:]
    return rows


def seconds_of(text: str) -> float:
    """'15 min 17 s' or '38 s', as the evaluation page writes a duration (static/js/evaluation/format.js)."""
    found = re.fullmatch(r"(?:(\d+) min )?([\d.]+) s", text)
    assert found, text
    return 60 * int(found.group(1) or 0) + float(found.group(2))


def test_the_readme_results_table_is_the_shipped_reports():
    reports, rows = shipped_reports(), readme_results()
    assert set(rows) == set(reports)
    for name, report in reports.items():
        accuracy, errors, loss, ece, params, epochs, training_time = rows[name]
        calibration = report["calibration"]["test"]
        assert accuracy == f"{report['test_accuracy']:.2%}".replace("%", " %"), name
        assert errors == str(report["test_errors"]), name
        assert loss == f"{report['test_loss']:.4f}", name
        assert ece == f"{calibration['before']['ece']:.2%} -> {calibration['after']['ece']:.2%}".replace("%", " %")
        assert params == f"{report['params']:,}", name
        assert epochs == str(report["epochs"]), name
        assert abs(seconds_of(training_time) - report["training_seconds"]) <= 0.5, (name, training_time)


def test_the_readme_figures_beside_the_table_are_the_shipped_reports():
    readme = " ".join((ROOT / "README.md").read_text().split())
    reports = shipped_reports()
    listed = re.search(r"fitted on the validation digits \(([^)]*)\)", readme).group(1)
    temperatures = dict(pair.rsplit(" ", 1) for pair in listed.split(", "))
    assert temperatures == {name: f"{report['calibration']['temperature']:.2f}" for name, report in reports.items()}
    cnn = reports["cnn"]
    assert (f"the shipped one, {cnn['epochs']} epochs: **{cnn['test_accuracy']:.2%}".replace("%", " %")
            + f" ({cnn['test_errors']} errors) in {cnn['training_seconds']} s of training**") in readme
