"""The project's shape: layers run one way, every package ships, koe takes no common name."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"koe.config": "config", "koe.memory": "memory", "koe.voice": "voice"}


def test_layers_run_one_way(capsys: pytest.CaptureFixture[str]) -> None:
    """config <- memory <- voice, checked by the import-linter contract in pyproject.toml."""
    from importlinter.cli import lint_imports

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        status = lint_imports(no_cache=True, no_logo=True)
    finally:
        os.chdir(cwd)
    assert status == 0, capsys.readouterr().out


def test_every_package_is_listed_for_the_wheel() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools["package-dir"] == FOLDERS
    found = {
        name + "." + ".".join(init.parent.relative_to(ROOT / folder).parts)
        if init.parent != ROOT / folder else name
        for name, folder in FOLDERS.items() for init in (ROOT / folder).rglob("__init__.py")
    }
    assert found == set(setuptools["packages"])


def test_every_test_folder_is_a_package() -> None:
    folders = {p.parent for p in (ROOT / "tests").rglob("test_*.py")}
    assert [f for f in folders if not (f / "__init__.py").is_file()] == []


def test_no_script_edits_the_import_path() -> None:
    offenders = [p.name for p in (ROOT / "scripts").glob("*.py")
                 if "sys.path" in p.read_text() or "PYTHONPATH" in p.read_text()]
    assert offenders == []


@pytest.mark.slow
def test_the_built_wheel_installs_koe_and_no_common_name(tmp_path: Path) -> None:
    """Build the wheel, put it first on the path outside the checkout: koe.* comes from it with
    its data files, and `voice`, `memory`, `config` are not importable names."""
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(target), str(ROOT)],
                   check=True, capture_output=True)
    probe = "\n".join((
        "import importlib.util, koe.voice.cli, koe.memory.embeddings as e, koe.config.loader as l",
        f"assert koe.voice.cli.__file__.startswith({str(target)!r}), koe.voice.cli.__file__",
        "assert e.packaged_vocab_file().is_file() and l.load_settings(None).stt.model",
        "print([importlib.util.find_spec(n) is None for n in ('voice', 'memory', 'config')])",
    ))
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[True, True, True]"
    help_text = subprocess.run([sys.executable, "-m", "koe.voice", "--help"], cwd=tmp_path,
                               env=env, capture_output=True, text=True)
    assert help_text.returncode == 0 and "transcribe" in help_text.stdout
