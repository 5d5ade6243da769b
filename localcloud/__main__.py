"""Command line of the local cloud: `python -m localcloud up|down|status|env|serve`.

`env` prints `export NAME=value` lines (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, AWS_REGION) for the running local cloud, so that
`eval "$(python -m localcloud env)"` points a shell, the AWS CLI, boto3 or Terraform at it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from localcloud import control, credentials
from localcloud.server import PortInUseError, serve

EXIT_NOT_RUNNING = 3  # the LSB init-script convention for "program is not running"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcloud", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status", "env", "serve"])
    default_port = f"default: $LOCAL_CLOUD_PORT or {control.DEFAULT_PORT}"
    parser.add_argument("--port", type=int, default=None, help=default_port)
    parser.add_argument("--state-dir", type=Path, default=None, help="serve only: state dir")
    parser.add_argument("--timeout", type=float, default=60.0, help="up: seconds to wait")
    args = parser.parse_args(argv)
    port = args.port if args.port is not None else control.default_port()

    try:
        if args.command == "serve":
            serve(port, args.state_dir or control.Paths.of(port).state_dir)
            return 0
        if args.command == "up":
            began = time.monotonic()
            pid, process = control.start(port, timeout=args.timeout)
            verb = "started" if process else "already running"
            took = f" in {time.monotonic() - began:.1f} s" if process else ""
            print(f"local cloud {verb}{took}: {control.endpoint_url(port)} (pid {pid})")
            key_file = credentials.path_in(control.Paths.of(port).state_dir)
            print(f"loopback only; every request must be signed with the key in {key_file} (0600)")
            print(f"log: {control.Paths.of(port).log_file}")
            print("point a shell, the AWS CLI, boto3 or Terraform at it with:")
            print(f'  eval "$(python -m localcloud env --port {port})"   (or: make -s local-env)')
            return 0
        if args.command == "env":
            if control.running_pid(port) is None:
                raise control.LocalCloudError(
                    f"no local cloud of ours runs on port {port}: start it with 'make local-up' "
                    f"(python -m localcloud up --port {port})"
                )
            print(control.exports(port))
            return 0
        if args.command == "down":
            stopped = control.stop(port)
            print("local cloud stopped" if stopped else f"no local cloud of ours on port {port}")
            return 0
        running = control.running_pid(port)
        if running is not None and control.health(port) is not None:
            print(f"local cloud running: {control.endpoint_url(port)} (pid {running})")
            return 0
        print(f"local cloud not running on port {port}")
        return EXIT_NOT_RUNNING
    except (control.LocalCloudError, PortInUseError, credentials.CredentialsFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
