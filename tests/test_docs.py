"""The docs say what the code does: the README's configuration table is the settings' own."""

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
