"""Paths built from API names and keys, refused unless they resolve inside their own folder."""

from __future__ import annotations

import shutil
from pathlib import Path


class PathOutsideRootError(ValueError):
    """A name or key would make the local cloud write or remove a file outside its own folder."""


def inside(root: Path, *parts: str) -> Path:
    """root/parts with symlinks and `..` resolved; raises unless it lies strictly below root.

    Resolving both sides means a symlink planted under root that points elsewhere is refused
    too, and so is a part that is absolute (`/etc`) or empty (which would name root itself).
    """
    try:
        base = root.resolve()
        path = base.joinpath(*parts).resolve()
    except (ValueError, OSError) as error:  # an embedded NUL byte, a symlink loop
        raise PathOutsideRootError(
            f"{parts!r} is not a usable path under {root}: {error}"
        ) from error
    if path == base or not path.is_relative_to(base):
        raise PathOutsideRootError(
            f"{'/'.join(parts)!r} resolves to {path}, outside {base}; the local cloud only "
            "writes under its state folder. Use a name that is a single plain path segment."
        )
    return path


def remove_tree(root: Path, path: Path) -> None:
    """shutil.rmtree(path), only if path (resolved) lies strictly below root; absent is fine."""
    target = inside(root, str(path))
    if path.is_symlink():  # rmtree would refuse it anyway; say why instead
        raise PathOutsideRootError(f"{path} is a symlink; the local cloud only removes folders")
    if target.exists():
        shutil.rmtree(target)
