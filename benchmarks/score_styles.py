"""Every model's accuracy on the style benchmark: the world's handwriting styles drawn as the pad draws them.

    python benchmarks/score_styles.py [--models-dir model] [--write] [--update-reports]

The benchmark is benchmarks/styled_digits.py's `style_benchmark()`: 200 drawings of each of the eight styles of
training/style_strokes.py, drawn with its BENCHMARK parameters from their own seeds (training draws with other
seeds and wider parameters), each read through the app's preprocessing and the served (LiteRT) model file.
`--update-reports` writes the scores into each model's report (`styles`, as train.py writes them for a model it
trains, keeping how many drawings of each style the model learnt from), for models whose files changed after
training or were trained before the benchmark existed: the evaluation page shows them from there.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.results_file import write_section
from benchmarks.styled_digits import PER_STYLE
from training.report import cpu_name
from training.style_data import per_style_accuracy, style_benchmark
from training.style_strokes import STYLES
from webapp import PROJECT_ROOT
from webapp.inference.classifier import Classifier

SECTION = "## Handwriting styles (`benchmarks/score_styles.py`)"
MODELS = ("cnn", "mlp-wide", "mlp")


def scores(folder: Path) -> dict[str, dict[str, float]]:
    x, y, styles = style_benchmark()
    return {name: per_style_accuracy(Classifier.load(folder / f"{name}.tflite").predict, x, y, styles)
            for name in MODELS if (folder / f"{name}.tflite").is_file()}


def update_reports(folder: Path, found: dict[str, dict[str, float]], drawings: int) -> None:
    for name, accuracy in found.items():
        path = folder / f"{name}.json"
        report = json.loads(path.read_text())
        report["styles"] = {"benchmark": "benchmarks/styled_digits.py style_benchmark()", "drawings": drawings,
                            "accuracy": accuracy,
                            "trained_per_style": report.get("styles", {}).get("trained_per_style", 0),
                            "measured_by": "benchmarks/score_styles.py, after training"}
        path.write_text(json.dumps(report, separators=(",", ":")))


def table(found: dict[str, dict[str, float]]) -> str:
    names = list(found)
    lines = ["| style | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for style in STYLES:
        lines.append(f"| `{style}` | " + " | ".join(f"{found[name][style]:.1%}" for name in names) + " |")
    lines.append("| lowest | " + " | ".join(f"**{min(found[name].values()):.1%}**" for name in names) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-dir", type=Path, default=PROJECT_ROOT / "model")
    parser.add_argument("--write", action="store_true", help=f"write the table into {SECTION!r} of RESULTS.md")
    parser.add_argument("--update-reports", action="store_true", help="write the scores into the models' reports")
    args = parser.parse_args(argv)
    found = scores(args.models_dir)
    text = (f"{PER_STYLE} drawings per style, read through the app's preprocessing by the model files in "
            f"`{args.models_dir.name}/` (CPU: {cpu_name()}). Target for the CNN: every style >= 97 %.\n\n"
            + table(found))
    print(text)
    if args.write:
        write_section(SECTION, text)
    if args.update_reports:
        update_reports(args.models_dir, found, PER_STYLE * len(STYLES))


if __name__ == "__main__":
    main()
