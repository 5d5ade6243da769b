"""Terraform benchmark: init, apply, no-op plan and destroy of the local root on the local cloud."""

from __future__ import annotations

import time

from scripts.bench.results import Measure
from scripts.bench.stack import Deployment


def run(quick: bool, deployment: Deployment) -> list[Measure]:
    stack = deployment.stack()
    plans = []
    for _ in range(1 if quick else 2):
        began = time.monotonic()
        code, output = stack.plan_exit_code()
        plans.append(time.monotonic() - began)
        if code != 0:
            raise RuntimeError(f"the plan after apply is not a no-op ({code}):\n{output[-2000:]}")
    deployment.close()  # destroy is part of this benchmark, and it is the last user
    timings = deployment.timings
    note = "local root, private local cloud"
    return [
        Measure("terraform.init_s", timings["init"], "s", note=note),
        Measure("terraform.apply_s", timings["apply_1"], "s", note="plan + apply from empty"),
        Measure(
            "terraform.apply_model_s", timings["apply_2"], "s", note="plan + apply of the model"
        ),
        Measure("terraform.noop_plan_s", round(sorted(plans)[len(plans) // 2], 1), "s"),
        Measure("terraform.destroy_s", timings["destroy"], "s", note=note),
    ]
