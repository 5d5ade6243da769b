"""`python -m localcloud up|status|down`: the one door, as an operator uses it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcloud import control
from localcloud.testing import RunningCloud, create_function, invoke

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]


def cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOCAL_CLOUD_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "localcloud", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=90,
    )


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    for pid_file in tmp_path.glob("*/server.pid"):  # a failed test must not leave a server
        control.stop(int(pid_file.parent.name), state_root=tmp_path)


def test_up_status_down(home: Path) -> None:
    port = control.free_port()
    up = cli("up", "--port", str(port), home=home)
    assert up.returncode == 0, up.stderr
    assert f'eval "$(python -m localcloud env --port {port})"' in up.stdout
    assert "loopback only" in up.stdout
    pid = int((home / str(port) / "server.pid").read_text())
    issued = control.issued_credentials(port, home)
    assert issued.secret_access_key not in up.stdout  # the secret goes to a file, not a log

    again = cli("up", "--port", str(port), home=home)
    assert again.returncode == 0 and "already running" in again.stdout
    assert int((home / str(port) / "server.pid").read_text()) == pid

    assert cli("status", "--port", str(port), home=home).returncode == 0
    down = cli("down", "--port", str(port), home=home)
    assert down.returncode == 0 and "stopped" in down.stdout
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()
    assert cli("status", "--port", str(port), home=home).returncode == 3


def test_port_in_use_is_a_clear_error(home: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        up = cli("up", "--port", str(port), home=home)
    assert up.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in up.stderr
    assert "Traceback" not in up.stderr


def test_down_never_signals_a_process_that_is_not_ours(home: Path) -> None:
    port = control.free_port()
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (home / str(port)).mkdir()
        (home / str(port) / "server.pid").write_text(f"{bystander.pid}\n")
        down = cli("down", "--port", str(port), home=home)
        assert down.returncode == 0 and "no local cloud of ours" in down.stdout
        assert bystander.poll() is None
        assert not (home / str(port) / "server.pid").exists()  # the stale record is dropped
    finally:
        bystander.kill()
        bystander.wait()


def test_down_also_stops_lambda_workers(home: Path) -> None:
    port = control.free_port()
    assert cli("up", "--port", str(port), home=home).returncode == 0
    cloud = RunningCloud.attach(port, home)
    role = cloud.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    source = "import os\n\ndef lambda_handler(event, context):\n    return os.getpid()\n"
    create_function(cloud, role["Role"]["Arn"], "pid", source)
    worker, _ = invoke(cloud, "pid")
    assert Path(f"/proc/{worker}").exists()
    assert cli("down", "--port", str(port), home=home).returncode == 0
    assert not Path(f"/proc/{worker}").exists() or "Z" in Path(f"/proc/{worker}/stat").read_text()


def test_start_failure_shows_the_log_tail(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = control.free_port()
    monkeypatch.setenv("PYTHONPATH", str(home))  # shadow the package with a broken one
    (home / "localcloud").mkdir()
    (home / "localcloud" / "__init__.py").write_text("raise SystemExit('broken on purpose')\n")
    monkeypatch.setattr(control, "PACKAGE_ROOT", home)
    with pytest.raises(control.StartTimeoutError, match="broken on purpose"):
        control.start(port, state_root=home / "state", timeout=20)
