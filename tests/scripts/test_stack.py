"""scripts/stack.py's bounded subprocesses: a timeout ends the whole process group at once."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from scripts.stack import run_bounded


def test_output_and_exit_code_come_back(tmp_path: Path) -> None:
    done = run_bounded(["bash", "-c", "echo out; echo err >&2; exit 3"], 10, tmp_path, {})
    assert (done.returncode, done.stdout, done.stderr) == (3, "out\n", "err\n")


def test_a_timeout_kills_the_grandchildren_and_keeps_what_they_printed(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    # Like tf.sh -> terraform -> provider: the grandchild holds the pipes open.
    script = f"echo started; sleep 60 & echo $! > {pid_file}; wait"
    began = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired) as caught:
        run_bounded(["bash", "-c", script], 1.0, tmp_path, {"PATH": os.environ["PATH"]})
    assert time.monotonic() - began < 10
    assert caught.value.output == "started\n"
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    pytest.fail(f"the grandchild {grandchild} outlived the timeout")
