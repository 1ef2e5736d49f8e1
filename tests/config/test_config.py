"""Settings: defaults, user file, environment, command line; errors name the key and value."""

from __future__ import annotations

from pathlib import Path

import pytest

from koe.config import ConfigError, Settings, load_settings
from koe.config.loader import apply_overrides, user_config_file


def test_defaults_match_the_schema() -> None:
    # default.toml documents every key; it must say exactly what the schema defaults say.
    assert load_settings(environ={}) == Settings()


def test_user_file_overrides_defaults(tmp_path: Path) -> None:
    path = tmp_path / "koe.toml"
    path.write_text('[stt]\nmodel = "small"\n[stt.guards]\nmax_repeats = 5\n')
    settings = load_settings(path, environ={})
    assert settings.stt.model == "small"
    assert settings.stt.guards.max_repeats == 5
    assert settings.stt.beam_size == 5  # untouched keys keep their defaults


def test_default_user_file_is_read(koe_home: Path) -> None:
    path = user_config_file()
    path.parent.mkdir(parents=True)
    path.write_text("[transcribe]\nformats = ['srt', 'vtt']\n")
    assert load_settings(environ={}).transcribe.formats == ["srt", "vtt"]


def test_environment_overrides_file(tmp_path: Path) -> None:
    path = tmp_path / "koe.toml"
    path.write_text("[stt]\nbeam_size = 3\n")
    env = {"KOE_STT_BEAM_SIZE": "1", "KOE_STT_GUARDS_VAD_FILTER": "false",
           "KOE_STT_MODEL": "/models/my whisper"}
    settings = load_settings(path, environ=env)
    assert settings.stt.beam_size == 1
    assert settings.stt.guards.vad_filter is False
    assert settings.stt.model == "/models/my whisper"  # not TOML: taken as a plain string


def test_koe_config_variable_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.toml"
    path.write_text("[stt]\nlanguage = 'de'\n")
    assert load_settings(environ={"KOE_CONFIG": str(path)}).stt.language == "de"


def test_unknown_key_names_key_and_file(tmp_path: Path) -> None:
    path = tmp_path / "koe.toml"
    path.write_text("[stt]\nbeem_size = 3\n")
    with pytest.raises(ConfigError, match=rf"unknown setting stt\.beem_size \(from {path}\)"):
        load_settings(path, environ={})


def test_bad_value_names_key_value_and_rule(tmp_path: Path) -> None:
    path = tmp_path / "koe.toml"
    path.write_text("[stt]\nbeam_size = 0\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    message = str(info.value)
    assert "stt.beam_size" in message and "0" in message and str(path) in message
    assert "greater than or equal to 1" in message
    assert "\n" not in message


def test_bad_choice_lists_what_is_allowed() -> None:
    with pytest.raises(ConfigError, match=r"stt\.compute_type.*'int8'"):
        load_settings(environ={"KOE_STT_COMPUTE_TYPE": "int4"})


def test_unknown_environment_variable_is_an_error() -> None:
    with pytest.raises(ConfigError, match="KOE_STT_BEEM_SIZE names no setting"):
        load_settings(environ={"KOE_STT_BEEM_SIZE": "3"})


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "absent.toml", environ={})


def test_broken_toml_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "koe.toml"
    path.write_text("[stt\nmodel = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path, environ={})


def test_command_line_overrides_are_validated() -> None:
    settings = apply_overrides(Settings(), {"stt.model": "base", "stt.beam_size": None}, "flags")
    assert settings.stt.model == "base" and settings.stt.beam_size == 5
    with pytest.raises(ConfigError, match=r"stt\.language.*\(from flags\)"):
        apply_overrides(Settings(), {"stt.language": "English!"}, "flags")


def test_other_koe_variables_are_not_settings() -> None:
    env = {"KOE_HOME": "/somewhere", "KOE_SHARED": "/data", "KOE_STT_BEAM_SIZE": "2"}
    assert load_settings(environ=env).stt.beam_size == 2
