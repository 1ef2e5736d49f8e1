"""Conditions root would otherwise sail through: file modes that bind, and a disk that fills.

Root ignores file modes, so "cannot write this folder" is tested in a child process that has
given up the capabilities that let it (it stays the same user: Python itself may live in a
folder only that user can read). A full disk is a small tmpfs; both skip with the reason where
the system does not allow them.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PR_CAPBSET_DROP = 24
# CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER: what lets root past file modes.
FILE_MODE_CAPABILITIES = (1, 2, 3)


def _drop_file_mode_capabilities() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in FILE_MODE_CAPABILITIES:
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def as_unprivileged() -> dict[str, object]:
    """subprocess keyword arguments for a child that file modes apply to."""
    if os.geteuid() != 0:
        return {}
    probe = subprocess.run(["true"], preexec_fn=_drop_file_mode_capabilities, check=False,
                           capture_output=True)
    if probe.returncode != 0:
        pytest.skip("running as root and cannot drop CAP_DAC_OVERRIDE: file modes do not bind")
    return {"preexec_fn": _drop_file_mode_capabilities}


@contextmanager
def small_disk(size: str = "1m") -> Iterator[Path]:
    """A freshly mounted tmpfs of `size`, unmounted afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="koe-small-disk-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                              str(folder)], capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        folder.rmdir()
        pytest.skip(f"cannot mount a small tmpfs here ({mounted.stderr.strip() or 'no mount'})")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)
        folder.rmdir()
