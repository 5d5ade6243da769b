"""The local cloud's server process: moto on one loopback port, with our plugins installed."""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType
from typing import Any

from localcloud import auth, credentials
from localcloud.plugin import LocalCloudContext, install_plugins

HEALTH_PATH = "/_localcloud/health"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# WSGI's types, spelled out: werkzeug's own aliases are private.
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class NotLoopbackError(ValueError):
    """The server was asked to listen on an address other machines could reach."""


class PortInUseError(RuntimeError):
    """Another process listens on the port the local cloud was asked to use."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(
            f"port {port} on {host} is already in use by another process. Stop that process, or "
            f"choose another port with --port or LOCAL_CLOUD_PORT (e.g. LOCAL_CLOUD_PORT=4567)."
        )
        self.port = port


def _configure_logging(state_dir: Path) -> logging.Logger:
    """Our records go to stderr (the server log); moto's interpreter chatter to its own file."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stderr, force=True)
    # Werkzeug logs every request at INFO: thousands of lines per batch, no diagnostic value.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # The Step Functions interpreter logs a whole execution context as ERROR on every failed
    # state, including the Catch paths that are the design. Keep them, but out of the way.
    sfn_log = logging.getLogger("moto.stepfunctions.parser")
    sfn_log.propagate = False
    handler = logging.FileHandler(state_dir / "stepfunctions.log")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    sfn_log.addHandler(handler)
    sfn_log.setLevel(logging.WARNING)
    return logging.getLogger("localcloud")


def _with_health(app: WsgiApp, ctx: LocalCloudContext, plugins: list[str]) -> WsgiApp:
    """Answer the health URL ourselves; everything else goes to moto."""
    started = time.time()

    def wrapped(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH:
            body = json.dumps(
                {
                    "status": "running",
                    "pid": os.getpid(),
                    "port": ctx.port,
                    "state_dir": str(ctx.state_dir),
                    "plugins": plugins,
                    "uptime_s": round(time.time() - started, 1),
                }
            ).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        return app(environ, start_response)

    return wrapped


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _require_loopback(host: str) -> None:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise NotLoopbackError(
            f"the local cloud listens on loopback only (127.0.0.1 or ::1), not {host!r}: it runs "
            "Lambda code as your user, and nothing outside this machine may reach it."
        )


def _isolate_environment(ctx: LocalCloudContext) -> None:
    """The server's own SDK calls, and every child it starts, use the key it issued.

    The developer's real AWS credentials, profile and endpoint overrides are dropped from the
    server's environment, so nothing the local cloud runs can reach (or bill) a real account.
    """
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        del os.environ[name]
    os.environ.update(ctx.aws_env())
    # moto's Step Functions interpreter and our Lambda workers find the server through this.
    os.environ["MOTO_PORT"] = str(ctx.port)


def serve(port: int, state_dir: Path, host: str = "127.0.0.1") -> None:
    """Run the server in the foreground until SIGTERM/SIGINT; plugins clean up on the way out."""
    _require_loopback(host)
    state_dir.mkdir(parents=True, exist_ok=True)
    state_dir.chmod(0o700)  # Lambda bundles, models and the credentials file are the user's
    logger = _configure_logging(state_dir)
    issued = credentials.Credentials.issue()
    ctx = LocalCloudContext(state_dir=state_dir, port=port, logger=logger, credentials=issued)
    _isolate_environment(ctx)
    credentials_file = credentials.path_in(state_dir)
    ctx.on_shutdown(lambda: credentials.remove(credentials_file))

    from moto.core.config import default_user_config
    from moto.moto_server.werkzeug_app import MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    # moto's own dispatcher holds one lock while a request's body arrives: see dispatch.py.
    from localcloud.dispatch import NonBlockingDispatcher

    default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
    plugins = install_plugins(ctx)
    app = auth.guard(
        _with_health(NonBlockingDispatcher(create_backend_app), ctx, plugins),
        port,
        issued,
        logger.getChild("auth"),
    )

    try:
        server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    except OSError as error:
        ctx.run_shutdown_hooks()
        raise PortInUseError(host, port) from error

    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    signal.signal(signal.SIGINT, _stop_on_sigterm)
    # Written only once the port is ours: a client that reads it finds this server answering.
    credentials.write(
        credentials_file,
        issued,
        endpoint_url=ctx.endpoint_url,
        region=ctx.region,
        port=port,
        pid=os.getpid(),
    )
    logger.info(
        "local cloud serving on http://%s:%d (pid %d), loopback only: requests must name "
        "127.0.0.1:%d, localhost:%d or [::1]:%d and be signed (SigV4) with the key in %s "
        "(mode 0600; `python -m localcloud env --port %d` prints it as exports)",
        host,
        port,
        os.getpid(),
        port,
        port,
        port,
        credentials_file,
        port,
    )
    try:
        server.serve_forever()
    finally:
        logger.info("local cloud stopping")
        ctx.run_shutdown_hooks()
        server.server_close()
