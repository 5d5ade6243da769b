"""Step Functions' interpreter without the work it repeats on every state: JSONPath parsers.

moto 5.2.5's interpreter parses each JSONPath when it evaluates it: `extract_json`
(moto/stepfunctions/parser/asl/utils/json_path.py) calls `jsonpath_ng.ext.parse(path)` for every
InputPath, OutputPath, `.$` field and ResultSelector, and `ResultPath._eval_body`
(asl/component/common/path/result_path.py) calls `jsonpath_ng.parse`. Each of those calls builds a
new parser (jsonpath_ng/parser.py `JsonPathParser.__init__` runs ply's `yacc`, which rebuilds its
LR tables) before it parses a few characters. py-spy on the local cloud running 8 executions at
a time of a 3-Lambda workflow found 5 % of the server's samples building parsers, and an earlier
profile of the classify workflow, whose states carry more paths, about a third; the server runs
every execution in one process (one GIL), so that time is spent one execution at a time.

The parsed expression (a tree of jsonpath_ng nodes) is only read by `find` and
`update_or_create`, which change the data, not the tree, so one expression per path text serves
every execution. A path that fails to parse raises as before (lru_cache keeps no failures).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

from localcloud.plugin import LocalCloudContext, MotoVersionError, patch_attribute

# The moto attributes this module patches; tests/localcloud checks they still fit.
PATCHED = {
    "moto.stepfunctions.parser.asl.utils.json_path": ["parse (jsonpath_ng.ext.parse)"],
    "moto.stepfunctions.parser.asl.component.common.path.result_path": [
        "parse (jsonpath_ng.parse)"
    ],
}
# The distinct path texts of every deployed definition fit many times over.
CACHED_PATHS = 4096
# module -> the jsonpath_ng parse function it imported by name (and calls per evaluation)
_PARSE_USERS = {
    "moto.stepfunctions.parser.asl.utils.json_path": "jsonpath_ng.ext",
    "moto.stepfunctions.parser.asl.component.common.path.result_path": "jsonpath_ng",
}


def cached_parse(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """`parse`, remembered per path text. lru_cache is safe across the execution threads: two
    threads missing the same path at once both parse it (as every call did before), one result
    is kept."""
    return functools.lru_cache(maxsize=CACHED_PATHS)(parse)


def patch_interpreter(ctx: LocalCloudContext) -> None:
    """Install the caches; stepfunctions.py calls it once moto's interpreter is imported."""
    for name, library in _PARSE_USERS.items():
        module = importlib.import_module(name)
        original: Callable[[str], Any] = importlib.import_module(library).parse
        if getattr(module, "parse", None) is not original:
            raise MotoVersionError(
                f"{name} no longer calls {library}.parse; review localcloud/stepfunctions_speed.py"
            )
        patch_attribute(module, "parse", cached_parse(original))
    ctx.child_logger("stepfunctions").info("JSONPath parsers cached")
