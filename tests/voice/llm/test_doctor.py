"""`koe doctor` on the language model settings."""

from __future__ import annotations

import pytest

from koe.config.schema import LlmSettings, Settings
from koe.voice.doctor import SETTINGS_CHECKS, check_llm
from koe.voice.llm.doctor import llm_checks
from tests.net import port_of, refusing_port

from .fault_server import FaultServer


def checks(**llm: object) -> dict[str, tuple[bool, str]]:
    return {c.name: (c.ok, c.detail) for c in llm_checks(Settings(llm=LlmSettings(**llm)))}


def test_registered_with_doctor() -> None:
    assert check_llm in SETTINGS_CHECKS


def test_a_served_model_is_ok(fault_server: FaultServer) -> None:
    found = checks(endpoint=fault_server.url("ok"), model="test-model")
    assert all(ok for ok, _ in found.values())
    assert found["llm model test-model"] == (True, "served")


def test_an_unknown_model_and_a_missing_one_fail(fault_server: FaultServer) -> None:
    assert checks(endpoint=fault_server.url("ok"), model="gpt-9")["llm model gpt-9"][0] is False
    assert checks(endpoint=fault_server.url("ok"))["llm model"] == (False, "not set")


def test_a_refused_key_and_a_dead_endpoint_fail(fault_server: FaultServer) -> None:
    refused = checks(endpoint=fault_server.url("unauthorized"), model="m")
    assert [ok for ok, _ in refused.values()] == [False]
    with refusing_port() as sock:
        dead = checks(endpoint=f"http://127.0.0.1:{port_of(sock)}/v1", model="m")
    assert [ok for ok, _ in dead.values()] == [False]


def test_a_missing_local_model_file_fails(tmp_path) -> None:
    missing = str(tmp_path / "nope.gguf")
    found = checks(local={"model": missing})
    assert found[f"llm model {missing}"] == (False, "no such file")
    assert found["llm server"][0] is True


@pytest.mark.parametrize("scenario", ["silent", "trickle", "flood"])
def test_a_server_that_never_finishes_answering_fails_in_time(fault_server: FaultServer,
                                                              scenario: str) -> None:
    found = checks(endpoint=fault_server.url(scenario), model="m", first_token_timeout=0.5)
    [(ok, detail)] = found.values()
    assert ok is False and "in time" in detail
