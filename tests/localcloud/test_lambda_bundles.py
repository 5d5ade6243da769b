"""Unpacking one function's bundle never holds up another function's cold start."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from localcloud import lambda_runtime
from localcloud.lambda_runtime import Bundles, FunctionSpec
from localcloud.plugin import LocalCloudContext
from localcloud.testing import zip_of

DEADLINE_S = 30.0


def spec(name: str) -> FunctionSpec:
    code = zip_of({"handler.py": f"NAME = {name!r}\n"})
    return FunctionSpec(
        name=name,
        arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        version="$LATEST",
        runtime="python3.12",
        handler="handler.lambda_handler",
        timeout_s=3.0,
        memory_mb=128,
        env=(),
        code_sha256=name,
        layers=(),
        code=code,
    )


def test_a_slow_unpack_does_not_block_another_function(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundles = Bundles(LocalCloudContext(state_dir=tmp_path, port=0))
    slow_started, release = threading.Event(), threading.Event()
    original = lambda_runtime._extract

    def extract(code: bytes, target: Path) -> None:
        if "slow-fn" in str(target):
            slow_started.set()
            assert release.wait(DEADLINE_S), "the test never released the slow unpack"
        original(code, target)

    monkeypatch.setattr(lambda_runtime, "_extract", extract)
    slow = threading.Thread(target=bundles.sys_path, args=(spec("slow-fn"), False), daemon=True)
    slow.start()
    try:
        assert slow_started.wait(DEADLINE_S)
        # With one lock for every bundle this call waits for `release`, which never comes
        # before it returns: the join below would then time out and the assert fail.
        tasks: list[Path] = []
        done = threading.Thread(
            target=lambda: tasks.append(bundles.sys_path(spec("fast-fn"), False)[0])
        )
        done.start()
        done.join(DEADLINE_S)
        assert not done.is_alive(), "the fast function waited for the slow one's unpack"
        assert (tasks[0] / "handler.py").read_text() == "NAME = 'fast-fn'\n"
    finally:
        release.set()
        slow.join(DEADLINE_S)
    assert not slow.is_alive()


def test_the_same_bundle_is_unpacked_once_by_concurrent_cold_starts(tmp_path: Path) -> None:
    bundles = Bundles(LocalCloudContext(state_dir=tmp_path, port=0))
    results: list[tuple[Path, list[str]]] = []
    threads = [
        threading.Thread(target=lambda: results.append(bundles.sys_path(spec("same-fn"), False)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE_S)
    assert len(results) == 4 and len({task for task, _ in results}) == 1
    bundle = results[0][0].parent
    assert sorted(p.name for p in bundle.iterdir()) == ["opt", "task"]  # no staging left over
