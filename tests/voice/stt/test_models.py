"""Model resolution: a folder, the packaged copies (base assembled once), upstream names."""

from __future__ import annotations

from pathlib import Path

import pytest

from koe.config.errors import ModelError
from koe.config.schema import SttSettings
from koe.voice.stt.models import BASE_MODEL, assemble_base_model, resolve_model, verify_checksum
from koe.voice.stt.transcriber import choose_model_name


def test_packaged_tiny_en() -> None:
    resolved = resolve_model("tiny.en")
    assert resolved.source == "packaged" and resolved.english_only
    assert (Path(resolved.path) / "model.bin").stat().st_size > 70_000_000


def test_folder_wins_over_names(tmp_path: Path) -> None:
    folder = tmp_path / "tiny.en"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"x")
    (folder / "config.json").write_text("{}")
    resolved = resolve_model(str(folder))
    assert resolved.source == "folder" and resolved.path == str(folder)


def test_incomplete_folder_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"missing model\.bin, config\.json"):
        resolve_model(str(tmp_path))


def test_missing_folder_is_explained() -> None:
    with pytest.raises(ModelError, match="does not exist"):
        resolve_model("./models/whisper-medium")


def test_upstream_names_pass_through() -> None:
    assert resolve_model("large-v3").source == "upstream"
    assert resolve_model("Systran/faster-whisper-small").source == "upstream"


def test_language_picks_the_model() -> None:
    stt = SttSettings()
    assert choose_model_name(stt, "en") == "tiny.en"
    assert choose_model_name(stt, "ja") == "base"
    assert choose_model_name(stt, "auto") == "base"
    assert choose_model_name(SttSettings(model="small"), "ja") == "small"


def test_base_is_assembled_once_and_rebuilt_when_damaged(koe_home: Path) -> None:
    folder = assemble_base_model()
    assert folder.is_relative_to(koe_home)
    model = folder / "model.bin"
    assert model.stat().st_size == BASE_MODEL.size
    assert verify_checksum(folder)
    first_mtime = model.stat().st_mtime_ns
    assert assemble_base_model() == folder and model.stat().st_mtime_ns == first_mtime

    # A partial file (an interrupted copy, a full disk) is noticed and rebuilt.
    with model.open("r+b") as f:
        f.truncate(1000)
    assemble_base_model()
    assert model.stat().st_size == BASE_MODEL.size and verify_checksum(folder)

    # Flipped bytes of the right length are caught by the full check `koe doctor` runs.
    with model.open("r+b") as f:
        f.seek(5000)
        f.write(b"\x00" * 64)
    assert not verify_checksum(folder)


def test_a_mistyped_folder_beside_real_ones_is_a_missing_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mymodels").mkdir()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelError, match=r"model folder mymodels/whisper does not exist"):
        resolve_model("mymodels/whisper")


def test_a_repository_id_that_cannot_be_fetched_may_be_a_folder_too() -> None:
    # Offline (as tests run): the name could be a typo'd folder as well as a repository.
    from koe.voice.stt.models import fetch_upstream

    with pytest.raises(ModelError) as caught:
        fetch_upstream("nosuchorg-koe-test/whisper")
    assert "is not a model folder here" in caught.value.message
    assert "check the folder's name" in caught.value.hint
