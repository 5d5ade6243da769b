"""The interpreter parses each JSONPath once, and answers as it did (stepfunctions_speed)."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

import jsonpath_ng
import jsonpath_ng.ext
import pytest

from localcloud import stepfunctions_speed
from localcloud.plugin import LocalCloudContext, MotoVersionError

JSON_PATH = "moto.stepfunctions.parser.asl.utils.json_path"
RESULT_PATH = "moto.stepfunctions.parser.asl.component.common.path.result_path"


@pytest.fixture
def patched(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> LocalCloudContext:
    """The caches installed in this process, and moto's own parse put back afterwards."""
    for name in (JSON_PATH, RESULT_PATH):
        module = importlib.import_module(name)
        monkeypatch.setattr(module, "parse", module.parse)
    ctx = LocalCloudContext(state_dir=tmp_path, port=0, logger=logging.getLogger("test"))
    stepfunctions_speed.patch_interpreter(ctx)
    return ctx


def test_each_path_is_parsed_once(patched: LocalCloudContext) -> None:
    json_path = importlib.import_module(JSON_PATH)
    built: list[str] = []
    original = jsonpath_ng.ext.parse

    def counted(path: str) -> Any:
        built.append(path)
        return original(path)

    json_path.parse = stepfunctions_speed.cached_parse(counted)
    for data in ({"a": {"b": 1}}, {"a": {"b": 2}}, {"a": {"b": [3]}}):
        assert json_path.extract_json("$.a.b", data) == data["a"]["b"]
    assert built == ["$.a.b"]


def test_answers_are_moto_s(patched: LocalCloudContext) -> None:
    json_path = importlib.import_module(JSON_PATH)
    data = {"items": [{"k": 1}, {"k": 2}], "one": [7], "name": "x"}
    for path, expected in (
        ("$.items[*].k", [1, 2]),
        ("$.one[0]", 7),
        ("$.name", "x"),
        ("$", data),
        ("$.items[?(@.k > 1)].k", [2]),
    ):
        assert json_path.extract_json(path, data) == expected, path
        assert json_path.extract_json(path, data) == expected, path  # from the cache
    with pytest.raises(json_path.NoSuchJsonPathError):
        json_path.extract_json("$.missing", data)
    with pytest.raises(Exception, match="Parse error"):
        json_path.extract_json("$..[", data)


def test_result_path_writes_into_each_input_alone(patched: LocalCloudContext) -> None:
    result_path = importlib.import_module(RESULT_PATH)
    cached = result_path.parse("$.result.value")
    assert result_path.parse("$.result.value") is cached
    first, second = {"a": 1}, {"b": 2}
    cached.update_or_create(first, "one")
    cached.update_or_create(second, "two")
    assert first == {"a": 1, "result": {"value": "one"}}
    assert second == {"b": 2, "result": {"value": "two"}}


def test_a_moto_that_parses_elsewhere_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    json_path = importlib.import_module(JSON_PATH)
    monkeypatch.setattr(json_path, "parse", json_path.parse)
    module = importlib.import_module(RESULT_PATH)
    monkeypatch.setattr(module, "parse", lambda path: jsonpath_ng.parse(path))
    ctx = LocalCloudContext(state_dir=tmp_path, port=0, logger=logging.getLogger("test"))
    with pytest.raises(MotoVersionError, match=r"result_path no longer calls jsonpath_ng\.parse"):
        stepfunctions_speed.patch_interpreter(ctx)
