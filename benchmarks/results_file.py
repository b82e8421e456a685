"""One section of benchmarks/RESULTS.md rewritten by the benchmark that measures it, the others kept."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(heading: str, text: str, results: Path = RESULTS) -> None:
    """Put `text` under `heading` (a `## ...` line): in place of that section's old text, or at the end."""
    content = results.read_text()
    block = f"{heading}\n\n{text}\n"
    if heading in content:
        start = content.index(heading)
        end = content.find("\n## ", start + len(heading))
        content = content[:start] + block + ("\n" + content[end + 1:] if end != -1 else "")
    else:
        content = content.rstrip() + "\n\n" + block
    results.write_text(content)
