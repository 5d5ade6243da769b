"""The path helper: names and keys resolve inside their root, or are refused (symlinks too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from localcloud import lambda_runtime, paths, sagemaker_training
from localcloud.plugin import LocalCloudContext
from localcloud.testing import zip_of


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "state" / "root"
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    folder = tmp_path / "canary"
    folder.mkdir()
    (folder / "keep.txt").write_text("still here")
    return folder


def test_plain_parts_resolve_below_the_root(root: Path) -> None:
    assert paths.inside(root, "job-1") == root.resolve() / "job-1"
    assert paths.inside(root, "a", "b/c.txt") == root.resolve() / "a" / "b" / "c.txt"
    assert paths.inside(root, "a/../b") == root.resolve() / "b"  # stays inside: allowed


@pytest.mark.parametrize(
    "parts",
    [("..",), ("../x",), ("a/../../b",), ("a", "..", "..", "b"), (".",), ("",), ("/etc",), ()],
)
def test_parts_that_leave_or_name_the_root_are_refused(root: Path, parts: tuple[str, ...]) -> None:
    with pytest.raises(paths.PathOutsideRootError):
        paths.inside(root, *parts)


def test_an_absolute_path_elsewhere_is_refused(root: Path, canary: Path) -> None:
    with pytest.raises(paths.PathOutsideRootError, match="outside"):
        paths.inside(root, str(canary))


def test_a_nul_byte_is_refused_not_crashed_on(root: Path) -> None:
    with pytest.raises(paths.PathOutsideRootError):
        paths.inside(root, "a\0b")


def test_a_symlink_under_the_root_that_points_outside_is_refused(root: Path, canary: Path) -> None:
    (root / "link").symlink_to(canary)
    with pytest.raises(paths.PathOutsideRootError):
        paths.inside(root, "link")
    with pytest.raises(paths.PathOutsideRootError):
        paths.inside(root, "link", "keep.txt")


def test_a_symlinked_root_and_links_within_it_are_fine(tmp_path: Path, root: Path) -> None:
    (tmp_path / "alias").symlink_to(root)
    (root / "real").mkdir()
    (root / "inner").symlink_to(root / "real")
    assert paths.inside(tmp_path / "alias", "x") == root.resolve() / "x"
    assert paths.inside(root, "inner", "f") == root.resolve() / "real" / "f"


def test_remove_tree_removes_only_inside(root: Path, canary: Path) -> None:
    (root / "job" / "model").mkdir(parents=True)
    paths.remove_tree(root, root / "job")
    assert not (root / "job").exists()
    paths.remove_tree(root, root / "job")  # absent: nothing to do
    for target in (canary, root / ".." / ".." / "canary", root):
        with pytest.raises(paths.PathOutsideRootError):
            paths.remove_tree(root, target)
    assert (canary / "keep.txt").read_text() == "still here"


def test_remove_tree_refuses_a_symlink_even_to_inside(root: Path, canary: Path) -> None:
    (root / "real").mkdir()
    (root / "link").symlink_to(root / "real")
    (root / "out").symlink_to(canary)
    with pytest.raises(paths.PathOutsideRootError):
        paths.remove_tree(root, root / "link")
    with pytest.raises(paths.PathOutsideRootError):
        paths.remove_tree(root, root / "out")
    assert (root / "real").is_dir() and (canary / "keep.txt").exists()


def test_training_job_folders_are_contained(tmp_path: Path) -> None:
    service = sagemaker_training.TrainingService(LocalCloudContext(state_dir=tmp_path, port=0))
    assert service.ml_root("job-1") == tmp_path.resolve() / "sagemaker" / "training" / "job-1"
    for name in ("..", "../../x", str(tmp_path)):
        with pytest.raises(paths.PathOutsideRootError):
            service.ml_root(name)


def spec(name: str) -> lambda_runtime.FunctionSpec:
    code = zip_of({"handler.py": "def lambda_handler(event, context):\n    return 1\n"})
    return lambda_runtime.FunctionSpec(
        name=name,
        arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        version="$LATEST",
        runtime="python3.12",
        handler="handler.lambda_handler",
        timeout_s=3.0,
        memory_mb=128,
        env=(),
        code_sha256="0" * 64,
        layers=(),
        code=code,
    )


def test_lambda_bundles_stay_in_the_lambda_folder(tmp_path: Path, canary: Path) -> None:
    state = tmp_path / "state"
    bundles = lambda_runtime.Bundles(LocalCloudContext(state_dir=state, port=0))
    lambda_root = (state / "lambda").resolve()
    # CreateFunction refuses these names; a bundle folder made from one stays inside anyway.
    for name in ("..", ".", "../x", "a/../../b", str(canary)):
        task, _ = bundles.sys_path(spec(name), host_fallback=False)
        assert task.parent.parent.parent == lambda_root, (name, task)
        assert (task / "handler.py").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["canary", "state"]
    assert sorted(p.name for p in state.iterdir()) == ["lambda"]
    assert sorted(p.name for p in canary.iterdir()) == ["keep.txt"]
