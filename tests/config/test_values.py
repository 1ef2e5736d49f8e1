"""Setting values as users write them: every refusal is one line in words (never a regex) with
a hint, and every value a setting takes survives the trip through a file and the environment."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from koe.config import ConfigError, Settings, load_settings
from koe.config.languages import WHISPER_LANGUAGES
from koe.config.loader import apply_overrides

REGEX_MARKS = ("^", "$", "\\S", "[a-z]", "{2,3}", "pattern")


def refusal(key: str, value: object) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        apply_overrides(Settings(), {key: value}, "the command line")
    return caught.value


def assert_plain(error: ConfigError) -> None:
    text = f"{error.message} {error.hint}"
    assert "\n" not in error.message and "\n" not in error.hint
    assert not any(mark in text for mark in REGEX_MARKS), text
    assert error.hint


def test_whisper_languages_are_the_ones_faster_whisper_knows() -> None:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    assert set(_LANGUAGE_CODES) == WHISPER_LANGUAGES


@given(code=st.sampled_from(sorted(WHISPER_LANGUAGES)), upper=st.lists(st.booleans(),
                                                                       min_size=3, max_size=3))
def test_every_whisper_language_is_taken_in_any_case(code: str, upper: list[bool]) -> None:
    written = "".join(c.upper() if u else c for c, u in zip(code, upper, strict=False))
    settings_ = apply_overrides(Settings(), {"stt.language": f" {written} "}, "flags")
    assert settings_.stt.language == code


@settings(max_examples=200)
@given(st.text(alphabet=string.ascii_letters + string.digits + "-_!. ", min_size=1,
               max_size=12))
def test_anything_else_is_refused_in_words(value: str) -> None:
    if value.strip().lower() in WHISPER_LANGUAGES | {"auto"}:
        return
    error = refusal("stt.language", value)
    assert "not a language Whisper knows" in error.message
    assert_plain(error)


def test_a_language_name_hints_at_its_code() -> None:
    assert 'use the code "de"' in refusal("stt.language", "German").hint


@pytest.mark.parametrize(("value", "hint"), [
    ("localhost:8080", '"http://localhost:8080"'),
    ("127.0.0.1:11434/v1", '"http://127.0.0.1:11434/v1"'),
    ("ftp://example.com/v1", '"http://example.com/v1"'),
    ("http://", "e.g. http://"),
    ("http://host:port/v1", "e.g. http://"),
    ("http://exa mple.com", ""),
])
def test_an_endpoint_without_a_usable_url_says_what_it_needs(value: str, hint: str) -> None:
    error = refusal("llm.endpoint", value)
    assert "llm.endpoint" in error.message
    assert hint in error.hint
    if hint:
        assert_plain(error)


@given(host=st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z]{2,5})?", fullmatch=True),
       port=st.integers(1, 65535), scheme=st.sampled_from(["http", "https"]),
       path=st.sampled_from(["", "/v1", "/api/v1/"]))
def test_every_http_url_is_an_endpoint(host: str, port: int, scheme: str, path: str) -> None:
    url = f"{scheme}://{host}:{port}{path}"
    assert apply_overrides(Settings(), {"llm.endpoint": url}, "flags").llm.endpoint == url


def test_local_is_taken_in_any_case() -> None:
    assert apply_overrides(Settings(), {"llm.endpoint": "Local"}, "f").llm.endpoint == "local"


def test_a_pattern_setting_is_explained_without_its_regex() -> None:
    error = refusal("llm.api_key_env", "MY KEY")
    assert "not in the form" in error.message and "api_key_env" in error.hint
    assert_plain(error)


def test_a_huge_value_is_cut_in_the_message() -> None:
    error = refusal("stt.language", "x" * 100_000)
    assert len(error.message) < 300


def test_a_folder_given_as_the_config_file_is_called_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a folder, not a settings file") as caught:
        load_settings(tmp_path, environ={})
    assert str(tmp_path / "config.toml") in caught.value.hint


def test_an_empty_config_name_is_refused() -> None:
    with pytest.raises(ConfigError, match="name is empty"):
        load_settings(environ={"KOE_CONFIG": ""})


def test_a_config_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "koe.toml"
    path.write_bytes(b"[stt]\nmodel = '\xff'\n")
    with pytest.raises(ConfigError, match="is not UTF-8"):
        load_settings(path, environ={})


# Bounded numeric settings: a file and the environment agree on every value, the odd included.
NUMERIC = [("stt", "beam_size"), ("llm", "max_reply_seconds"), ("llm", "max_reply_chars"),
           ("stt.guards", "short_clip_seconds"), ("stt.guards", "max_syllables_per_second")]


@settings(max_examples=60, deadline=None)
@given(key=st.sampled_from(NUMERIC), value=st.one_of(
    st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True)))
def test_numbers_load_the_same_from_a_file_and_the_environment(
        tmp_path_factory: pytest.TempPathFactory, key: tuple[str, str], value: float) -> None:
    section, name = key
    text = repr(value)  # inf, -inf and nan are TOML too
    path = tmp_path_factory.mktemp("cfg") / "koe.toml"
    path.write_text(f"[{section}]\n{name} = {text}\n")
    env_name = "KOE_" + f"{section}_{name}".replace(".", "_").upper()
    results = []
    for load in (lambda: load_settings(path, environ={}),
                 lambda: load_settings(environ={env_name: text})):
        try:
            results.append(("ok", load().model_dump()))
        except ConfigError as exc:
            assert "\n" not in exc.message
            results.append(("error", exc.message.split(" (from ")[0]))
    assert results[0] == results[1]
