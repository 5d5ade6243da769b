"""Start, stop and query the local cloud's background server process."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localcloud import auth, credentials
from localcloud.server import HEALTH_PATH, PortInUseError

HOST = "127.0.0.1"
DEFAULT_PORT = 4566
PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # so `-m localcloud` resolves from any cwd


class LocalCloudError(RuntimeError):
    """An operator-facing failure of up/down/status; the message says what to do next."""


class StartTimeoutError(LocalCloudError):
    """The server did not answer its health URL in time (or died while starting)."""


def default_port() -> int:
    return int(os.environ.get("LOCAL_CLOUD_PORT", DEFAULT_PORT))


def default_state_root() -> Path:
    """`.localcloud/` in the working directory (the repo root under make); git-ignored."""
    return Path(os.environ.get("LOCAL_CLOUD_HOME", ".localcloud")).resolve()


def endpoint_url(port: int) -> str:
    return f"http://{HOST}:{port}"


# Variables that would make an SDK sign with something other than the issued key.
UNSET_FOR_LOCAL = ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")


def issued_credentials(port: int, state_root: Path | None = None) -> credentials.Credentials:
    """The key the local cloud on this port issued; CredentialsFileError when none runs."""
    return credentials.read(credentials.path_in(Paths.of(port, state_root).state_dir))


def aws_env(port: int, state_root: Path | None = None) -> dict[str, str]:
    """AWS_ENDPOINT_URL, the issued key and the region, for a subprocess or os.environ."""
    return issued_credentials(port, state_root).env(endpoint_url(port))


def exports(port: int, state_root: Path | None = None) -> str:
    """Shell lines that point the AWS CLI, boto3 and Terraform at the local cloud on port.

    `eval "$(python -m localcloud env)"` runs them. Values are shell-quoted; the secret is
    URL-safe base64 and the URL has no spaces, but quoting keeps that from mattering.
    """
    import shlex

    lines = [f"unset {' '.join(UNSET_FOR_LOCAL)}"]
    for name, value in aws_env(port, state_root).items():
        lines.append(f"export {name}={shlex.quote(value)}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Paths:
    state_dir: Path

    @classmethod
    def of(cls, port: int, state_root: Path | None = None) -> Paths:
        return cls((state_root or default_state_root()) / str(port))

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "server.pid"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "server.log"


def health(
    port: int, timeout: float = 1.0, state_root: Path | None = None
) -> dict[str, Any] | None:
    """The server's health record, or None when nothing (or not ours) answers.

    The request is signed with the key in this state root's credentials file, so a server
    that answers is the one that wrote it.
    """
    try:
        key = issued_credentials(port, state_root)
        status, body = auth.signed_request(endpoint_url(port) + HEALTH_PATH, key, timeout=timeout)
        if status != 200:
            return None
        record: dict[str, Any] = json.loads(body)
        return record
    except (OSError, ValueError, credentials.CredentialsFileError):
        return None


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # REUSEADDR: a socket of a server we just stopped lingering in TIME_WAIT is not "in use".
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port the kernel just had free, for tests and benchmarks."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _is_ours(pid: int, port: int) -> bool:
    """True when pid is a live `localcloud serve` on this port (not a reused PID)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    zombie = stat.rsplit(")", 1)[1].split()[0] == "Z"
    return not zombie and b"localcloud" in argv and b"serve" in argv and str(port).encode() in argv


def recorded_pid(paths: Paths) -> int | None:
    try:
        return int(paths.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def running_pid(port: int, state_root: Path | None = None) -> int | None:
    pid = recorded_pid(Paths.of(port, state_root))
    return pid if pid is not None and _is_ours(pid, port) else None


def _log_tail(paths: Paths, lines: int = 25) -> str:
    try:
        return "\n".join(paths.log_file.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log written)"


def start(
    port: int, state_root: Path | None = None, timeout: float = 60.0
) -> tuple[int, subprocess.Popen[bytes] | None]:
    """Start the server detached (own session, so `down` can kill its whole process group).

    Returns (pid, Popen); Popen is None when our server was already running (idempotent up).
    """
    paths = Paths.of(port, state_root)
    pid = running_pid(port, state_root)
    if pid is not None and health(port, state_root=state_root) is not None:
        return pid, None
    if not port_is_free(port):
        raise PortInUseError(HOST, port)
    paths.state_dir.mkdir(parents=True, exist_ok=True)
    paths.state_dir.chmod(0o700)
    credentials.remove(credentials.path_in(paths.state_dir))  # a dead server's key
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH")]))
    with paths.log_file.open("ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "localcloud",
                "serve",
                "--port",
                str(port),
                "--state-dir",
                str(paths.state_dir),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
            cwd=PACKAGE_ROOT,
        )
    paths.pid_file.write_text(f"{process.pid}\n")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if health(port, timeout=0.5, state_root=state_root) is not None:
            return process.pid, process
        if process.poll() is not None:
            paths.pid_file.unlink(missing_ok=True)
            raise StartTimeoutError(
                f"the local cloud exited with code {process.returncode} while starting. "
                f"Log tail ({paths.log_file}):\n{_log_tail(paths)}"
            )
        time.sleep(0.1)
    _kill_group(process.pid, grace=2.0)
    process.wait()
    paths.pid_file.unlink(missing_ok=True)
    raise StartTimeoutError(
        f"the local cloud did not answer {endpoint_url(port)}{HEALTH_PATH} within {timeout:.0f} s; "
        f"it was stopped. Log tail ({paths.log_file}):\n{_log_tail(paths)}"
    )


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _kill_group(pid: int, grace: float) -> None:
    """SIGTERM the server's process group, wait, then SIGKILL what is left of the group.

    The server leads its own session (start_new_session), so the group holds exactly it and its
    children (Lambda workers, training jobs) — never the caller.
    """
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)  # stragglers, and the leader if it ignored SIGTERM


def stop(port: int, state_root: Path | None = None, grace: float = 10.0) -> bool:
    """Stop the server this state dir recorded; False when none of ours was running."""
    paths = Paths.of(port, state_root)
    pid = recorded_pid(paths)
    if pid is None:
        return False
    if not _is_ours(pid, port):
        # A stale record (crash, reboot) or a reused PID: never signal someone else's process.
        paths.pid_file.unlink(missing_ok=True)
        return False
    _kill_group(pid, grace)
    paths.pid_file.unlink(missing_ok=True)
    credentials.remove(credentials.path_in(paths.state_dir))  # if it was killed, not stopped
    return True
