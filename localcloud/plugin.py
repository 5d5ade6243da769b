"""The hook by which each part of the local cloud adds itself to moto before the server serves."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from localcloud.credentials import Credentials

# Every patch of moto internals in this package was written against this release.
MOTO_VERSION = "5.2.5"

# Imported and installed in this order by the server; one that cannot be imported stops the start.
PLUGIN_MODULES: tuple[str, ...] = (
    "localcloud.stepfunctions",
    "localcloud.eventbridge",
    "localcloud.sqs",
    "localcloud.s3_listing",
    "localcloud.s3_policies",
    "localcloud.lambda_runtime",
    "localcloud.sagemaker_training",
    "localcloud.sagemaker_registry",
    "localcloud.sagemaker_endpoints",
    "localcloud.application_autoscaling",
)


class MissingPluginError(RuntimeError):
    """A plugin module of PLUGIN_MODULES cannot be imported: the server refuses to start."""


class MotoVersionError(RuntimeError):
    """The installed moto is not the release our patches were written for."""


@dataclass
class LocalCloudContext:
    """What a plugin may use: where to keep files, which port it serves on, how to log.

    The server process leads its own process group, so any child a plugin starts (Lambda
    workers, training jobs, model servers) is killed with it by `localcloud down`. A plugin
    that holds resources may also register a callable with `on_shutdown`.
    """

    state_dir: Path  # .localcloud/<port>: this server's own scratch space
    port: int
    # The key this server issued at start; every request must be signed with it.
    credentials: Credentials = field(default_factory=Credentials.issue)
    region: str = "us-east-1"
    account_id: str = "123456789012"
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("localcloud"))
    shutdown_hooks: list[Callable[[], None]] = field(default_factory=list)

    @property
    def endpoint_url(self) -> str:
        """Where code running outside the server (workers, containers) reaches the local cloud."""
        return f"http://127.0.0.1:{self.port}"

    def aws_env(self) -> dict[str, str]:
        """The environment an SDK needs to call this server: what AWS gives a role's compute."""
        return self.credentials.env(self.endpoint_url, self.region)

    def child_logger(self, name: str) -> logging.Logger:
        return self.logger.getChild(name)

    def on_shutdown(self, hook: Callable[[], None]) -> None:
        self.shutdown_hooks.append(hook)

    def run_shutdown_hooks(self) -> None:
        for hook in reversed(self.shutdown_hooks):
            try:
                hook()
            except Exception:  # one plugin's failed cleanup must not stop the others'
                self.logger.exception("shutdown hook %r failed", hook)


class Plugin(Protocol):
    """A module of this package that adds behaviour to moto; `install` runs once per server."""

    def install(self, ctx: LocalCloudContext) -> None: ...


def require_moto_version(expected: str = MOTO_VERSION) -> None:
    """Refuse to patch a moto our patches were not written for, rather than misbehave quietly."""
    import moto

    if moto.__version__ != expected:
        raise MotoVersionError(
            f"localcloud patches moto internals written for moto=={expected}, but moto=="
            f"{moto.__version__} is installed. Install moto[server]=={expected} "
            "(pyproject.toml pins it) or port the patches in localcloud/ and their pinning tests."
        )


def patch_attribute(owner: object, name: str, value: object, *, replaces: bool = True) -> None:
    """Set owner.name, after checking moto still has (or still lacks) what we expect to replace.

    A moto upgrade that renames what we patch then fails at start-up, naming the attribute,
    instead of leaving the local cloud quietly behaving like plain moto.
    """
    if hasattr(owner, name) != replaces:
        state = "no longer has" if replaces else "now has its own"
        raise MotoVersionError(
            f"moto {state} {getattr(owner, '__qualname__', owner)}.{name}; the localcloud patch "
            "for it must be reviewed against this moto release"
        )
    setattr(owner, name, value)


def install_plugins(ctx: LocalCloudContext, modules: tuple[str, ...] = PLUGIN_MODULES) -> list[str]:
    """Import each plugin module and call its `install(ctx)`; returns the names installed."""
    require_moto_version()
    installed = []
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            # A local cloud without one of its parts would pass for whole and then misbehave
            # (e.g. plain moto's Lambda echoes payloads): refuse to start instead.
            raise MissingPluginError(
                f"local cloud plugin {name} cannot be imported ({error}); the server will not "
                "start without it. Reinstall the project (make venv) or restore the module."
            ) from error
        plugin: Plugin = module
        plugin.install(ctx)
        installed.append(name)
        ctx.logger.info("installed plugin %s", name)
    return installed
