"""Load settings: default.toml, then the user's file, then KOE_* environment variables."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from platformdirs import user_config_path
from pydantic import ValidationError

from koe.config.errors import KoeError
from koe.config.schema import Settings

ENV_PREFIX = "KOE_"


class ConfigError(KoeError):
    exit_code = 2


def user_config_file() -> Path:
    return user_config_path("koe") / "config.toml"


def load_settings(
    path: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Merged, validated settings. `path` (or $KOE_CONFIG) must exist when given."""
    environ = os.environ if environ is None else environ
    merged = _read_toml(resources.files("koe.config") / "default.toml", "default.toml")
    sources: dict[str, str] = {}

    user_file, explicit = _user_file(path, environ)
    if explicit:
        _check_named_file(user_file)
    if user_file.is_file():
        user = _read_toml(user_file, str(user_file))
        _merge(merged, user, str(user_file), sources)

    _merge(merged, _env_overrides(environ), "environment", sources)
    return _validate(merged, sources)


def settings_sources(path: str | Path | None = None) -> list[str]:
    """The files a `load_settings(path)` call reads, for `koe doctor`."""
    files = [str(resources.files("koe.config") / "default.toml")]
    user_file, _ = _user_file(path, os.environ)
    if user_file.is_file():
        files.append(str(user_file))
    return files


def _user_file(path: str | Path | None, environ: Mapping[str, str]) -> tuple[Path, bool]:
    """The user's settings file, and whether it was named explicitly (then it must exist)."""
    explicit = path if path is not None else environ.get("KOE_CONFIG")
    if explicit is not None and not str(explicit).strip():
        raise ConfigError("the settings file name is empty",
                          hint="name a .toml file with --config (or $KOE_CONFIG), or drop it")
    return (Path(explicit).expanduser() if explicit else user_config_file()), bool(explicit)


def _check_named_file(path: Path) -> None:
    """A file named with --config or $KOE_CONFIG must be one: say what it is instead."""
    if path.is_dir():
        raise ConfigError(f"config file {path} is a folder, not a settings file",
                          hint="name a .toml file inside it, e.g. "
                          f"{path / 'config.toml'} (see config/default.toml for every key)")
    if not path.exists():
        raise ConfigError(
            f"config file {path} does not exist",
            hint="create it (see config/default.toml for every key) or drop --config",
        )


def _read_toml(source: Any, label: str) -> dict[str, Any]:
    try:
        return tomllib.loads(source.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label} is not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{label} is not UTF-8 text (byte {exc.start})",
                          hint="save it as UTF-8") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read {label}: {(exc.strerror or str(exc)).lower()}") from exc


def _merge(base: dict[str, Any], update: Mapping[str, Any], source: str,
           sources: dict[str, str], prefix: str = "") -> None:
    for key, value in update.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value, source, sources, f"{dotted}.")
        else:
            base[key] = value
            sources[dotted] = source


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """KOE_STT_BEAM_SIZE=1 -> {"stt": {"beam_size": 1}}; KOE_STT_GUARDS_VAD_FILTER too.

    Variables whose first word is no section (KOE_CONFIG, KOE_HOME, other tools' KOE_*) are
    not settings; within a section, an unknown key is an error."""
    out: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        parts = name[len(ENV_PREFIX):].lower().split("_")
        if parts[0] not in Settings.model_fields:
            continue
        path = _match_env_path(parts)
        if path is None:
            raise ConfigError(
                f"environment variable {name} names no setting",
                hint="use KOE_<SECTION>_<KEY>, e.g. KOE_STT_MODEL; see config/default.toml",
            )
        node = out
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = _parse_env_value(raw)
    return out


def _match_env_path(parts: list[str]) -> list[str] | None:
    """Walk the schema: section names never contain '_', keys may."""
    model: Any = Settings
    path: list[str] = []
    rest = parts
    while rest:
        fields = model.model_fields
        for n in range(len(rest), 0, -1):
            key = "_".join(rest[:n])
            if key in fields:
                path.append(key)
                rest = rest[n:]
                annotation = fields[key].annotation
                model = annotation if _is_section(annotation) else None
                break
        else:
            return None
        if model is None:
            return path if not rest else None
    return None


def _is_section(annotation: Any) -> bool:
    return isinstance(annotation, type) and hasattr(annotation, "model_fields")


def _parse_env_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _validate(merged: dict[str, Any], sources: dict[str, str]) -> Settings:
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        dotted = ".".join(str(p) for p in err["loc"])
        origin = sources.get(dotted) or _source_of_parent(dotted, sources) or "default.toml"
        if err["type"] == "extra_forbidden":
            raise ConfigError(
                f"unknown setting {dotted} (from {origin})",
                hint="see config/default.toml for the keys koe knows",
            ) from exc
        reason = err["msg"].removeprefix("Value error, ")
        hint = getattr(err.get("ctx", {}).get("error"), "hint", "")
        if err["type"] == "string_pattern_mismatch":  # a regex tells a user nothing
            reason = "not in the form this setting takes"
            hint = f"see the comment on {dotted.rsplit('.', 1)[-1]} in config/default.toml"
        raise ConfigError(
            f"bad value for {dotted}: {_shown(err.get('input'))} (from {origin}): {reason}",
            hint=hint,
        ) from exc


def _shown(value: Any) -> str:
    """A value as the user wrote it, cut short: an error line must stay one readable line."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _source_of_parent(dotted: str, sources: dict[str, str]) -> str | None:
    while "." in dotted:
        dotted = dotted.rsplit(".", 1)[0]
        if dotted in sources:
            return sources[dotted]
    return None


def apply_overrides(settings: Settings, overrides: Mapping[str, Any], source: str) -> Settings:
    """Settings with dotted keys replaced (command-line flags), validated like the files."""
    data = settings.model_dump()
    sources: dict[str, str] = {}
    for dotted, value in overrides.items():
        if value is None:
            continue
        *parents, leaf = dotted.split(".")
        node = data
        for key in parents:
            node = node[key]
        node[leaf] = value
        sources[dotted] = source
    return _validate(data, sources)
