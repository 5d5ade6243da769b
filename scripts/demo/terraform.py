"""Terraform for the demo through scripts/tf.sh: progress on screen, everything in a log."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path

from scripts.demo.errors import DemoError

# Terraform lines worth showing while the rest goes to the stage's log file.
TERRAFORM_PROGRESS = re.compile(
    r"(: (Creation|Modifications|Destruction) complete|: Still (creating|modifying)|^Plan: |"
    r"^Apply complete|^No changes|^(│ )?(Error|Warning): )"
)


def terraform(
    command: str,
    *args: str,
    log: Path,
    env: str = "local",
    repo: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> None:
    """scripts/tf.sh <command> <env> <args>: full output to `log`, progress lines to the screen.

    repo: the checkout whose scripts/tf.sh and infra/ to use (default: the working directory);
    environ: tf.sh's environment (default: this process's).
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    tail: list[str] = []
    with (
        log.open("a", encoding="utf-8") as sink,
        subprocess.Popen(
            [
                "bash",
                str(Path(repo or ".") / "scripts" / "tf.sh"),
                command,
                env,
                "-no-color",
                *args,
            ],
            cwd=repo,
            env=None if environ is None else dict(environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # Its own process group, so an interruption reaches terraform, not only tf.sh.
            start_new_session=True,
        ) as process,
    ):
        assert process.stdout is not None
        try:
            for line in process.stdout:
                sink.write(line)
                tail = [*tail[-29:], line.rstrip()]
                if TERRAFORM_PROGRESS.search(line):
                    print(f"    {line.rstrip()}", flush=True)
            code = process.wait()
        except BaseException:
            _stop(process)
            raise
    if code != 0:
        raise DemoError(
            f"scripts/tf.sh {command} {env} exited {code}. Last lines:\n"
            + "\n".join(tail)
            + f"\nFull output: {log}"
        )


def apply(
    log: Path,
    env: str = "local",
    repo: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Plan, then apply exactly that plan (as `make plan apply`)."""
    terraform("plan", log=log, env=env, repo=repo, environ=environ)
    terraform("apply", log=log, env=env, repo=repo, environ=environ)


def _stop(process: subprocess.Popen[str]) -> None:
    """Interrupted (Ctrl-C, SIGTERM): Terraform must not outlive the demo.

    SIGINT first, so it stops gracefully and releases its state lock; SIGKILL after 20 s.
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
