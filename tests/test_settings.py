"""Settings come from DIGITDRAW_* variables, each parsed by its own type and checked at start-up."""

import logging

import pytest

from webapp import create_app, settings


@pytest.mark.parametrize("variable, value, expected", [
    ("DIGITDRAW_MAX_CONTENT_LENGTH", "8MB", "a whole number from 1,024 to 67,108,864"),
    ("DIGITDRAW_MAX_CONTENT_LENGTH", "0", "a whole number"),
    ("DIGITDRAW_MAX_IMAGE_PIXELS", "9" * 4300, "a whole number"),
    ("DIGITDRAW_TEACHER_TOKEN", "1e3", "at least 16 characters"),
    ("DIGITDRAW_DELETE_TOKEN", "1e3", "at least 16 characters"),
    ("DIGITDRAW_UNSURE_THRESHOLD", "2", "a number from 0 to 1"),
    ("DIGITDRAW_UNSURE_THRESHOLD", "nan", "a number from 0 to 1"),
    ("DIGITDRAW_RATELIMIT_ENABLED", "maybe", "true or false"),
    ("DIGITDRAW_RATELIMIT_PREDICT", "lots", "limits such as"),
    ("DIGITDRAW_RATELIMIT_STORAGE_URI", "localhost", "a storage URI"),
    ("DIGITDRAW_RATELIMIT_STORAGE_URI", "foo://bar", "a storage URI"),
    ("DIGITDRAW_TRUSTED_PROXIES", "-1", "a whole number from 0 to 5"),
    ("DIGITDRAW_BODY_TIMEOUT", "forever", "a number from 0.5 to 300"),
    ("DIGITDRAW_FEEDBACK_MAX_ROWS", "1e5", "a whole number"),
    ("DIGITDRAW_FRAME_ANCESTORS", "https://*.school.example", "origins such as https://lms.example"),
    ("DIGITDRAW_CORS_ORIGINS", "https://lms.example/lti", "origins such as https://lms.example"),
])
def test_a_bad_value_stops_start_up_naming_the_variable(monkeypatch, variable, value, expected):
    monkeypatch.setenv(variable, value)
    with pytest.raises(settings.SettingError) as refused:
        create_app()
    message = str(refused.value)
    assert message.startswith(f"Bad setting {variable}: it should be ") and expected in message
    assert "\n" not in message and len(message) < 200   # one line, never the value itself


def test_values_keep_their_type(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITDRAW_DATABASE", str(tmp_path / "d.sqlite"))
    monkeypatch.setenv("DIGITDRAW_TEACHER_TOKEN", "1e3-but-long-enough")
    monkeypatch.setenv("DIGITDRAW_MAX_CONTENT_LENGTH", "4_194_304")
    monkeypatch.setenv("DIGITDRAW_UNSURE_THRESHOLD", "0.5")
    monkeypatch.setenv("DIGITDRAW_RATELIMIT_ENABLED", "false")
    config = create_app().config
    assert config["TEACHER_TOKEN"] == "1e3-but-long-enough"
    assert config["MAX_CONTENT_LENGTH"] == 4 * 1024 * 1024
    assert config["UNSURE_THRESHOLD"] == 0.5
    assert config["RATELIMIT_ENABLED"] is False
    assert config["DATABASE"] == str(tmp_path / "d.sqlite")


def test_a_redis_storage_uri_is_accepted_without_connecting(monkeypatch, tmp_path):
    """Several instances share limits in Redis; the app starts even before Redis answers."""
    monkeypatch.setenv("DIGITDRAW_DATABASE", str(tmp_path / "d.sqlite"))
    monkeypatch.setenv("DIGITDRAW_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:1")
    assert create_app().config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:1"


def test_an_empty_token_turns_teacher_mode_off(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITDRAW_DATABASE", str(tmp_path / "d.sqlite"))
    monkeypatch.setenv("DIGITDRAW_TEACHER_TOKEN", "")
    assert create_app().config["TEACHER_TOKEN"] is None


def test_the_teachers_token_is_still_accepted_under_its_earlier_name(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("DIGITDRAW_DATABASE", str(tmp_path / "d.sqlite"))
    monkeypatch.setenv("DIGITDRAW_DELETE_TOKEN", "an-older-servers-token")
    assert create_app().config["TEACHER_TOKEN"] == "an-older-servers-token"
    assert "unknown setting" not in caplog.text
    monkeypatch.setenv("DIGITDRAW_TEACHER_TOKEN", "an-older-servers-token")   # both, alike: fine
    assert create_app().config["TEACHER_TOKEN"] == "an-older-servers-token"
    monkeypatch.setenv("DIGITDRAW_TEACHER_TOKEN", "another-token-altogether")
    with pytest.raises(settings.SettingError, match="set only DIGITDRAW_TEACHER_TOKEN"):
        create_app()


def test_an_unknown_variable_is_reported_not_fatal(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("DIGITDRAW_DATABASE", str(tmp_path / "d.sqlite"))
    monkeypatch.setenv("DIGITDRAW_MAX_CONTENT_LENGHT", "1000")
    with caplog.at_level(logging.WARNING, logger="digitdraw"):
        create_app()
    assert "unknown setting DIGITDRAW_MAX_CONTENT_LENGHT ignored" in caplog.text


def test_every_setting_has_a_default_that_its_own_parser_accepts():
    for setting in settings.SETTINGS:
        if setting.default is None or isinstance(setting.default, bool):
            continue
        text = " ".join(setting.default) if isinstance(setting.default, tuple) else str(setting.default)
        assert setting.parse(text) == setting.default, setting.name


@pytest.mark.parametrize("size, words", [
    (1, "1 byte"), (512, "512 bytes"), (1024, "1 KiB"), (1536, "1.5 KiB"), (100_000, "97.7 KiB"),
    (128 * 1024, "128 KiB"), (8 * 1024 * 1024, "8 MiB"), (int(2.5 * 1024 * 1024), "2.5 MiB"), (1024**3, "1 GiB"),
])
def test_sizes_read_naturally_in_binary_units(size, words):
    assert settings.size_in_words(size) == words
