"""Lambda invocations that run the deployed zip and layers in warm worker processes."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib.util
import io
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import sysconfig
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from localcloud import emf, lambda_memory, names, paths
from localcloud.plugin import LocalCloudContext, patch_attribute, require_moto_version

BOOTSTRAP = Path(__file__).with_name("lambda_bootstrap.py")
# What the real Lambda runtime gives every Python function besides the standard library. All
# pure Python, so the host's copies import under any Python 3 interpreter.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
MAX_WORKERS_PER_FUNCTION = int(os.environ.get("LOCAL_CLOUD_LAMBDA_MAX_WORKERS", "8"))
INIT_TIMEOUT_S = 30.0  # AWS allows 10 s of init; a first import of boto3 on a cold disk is slower
LOG_TAIL_BYTES = 4096  # what AWS returns in X-Amz-Log-Result

# The moto attributes this module patches; tests/localcloud checks they still fit.
PATCHED = {
    "moto.awslambda.models.LambdaFunction": [
        "invoke(self, body, request_headers, response_headers)"
    ],
    "moto.awslambda.models.LambdaBackend": [
        "create_function(self, spec)",
        "publish_layer_version(self, spec)",
    ],
}


class LambdaRuntimeError(RuntimeError):
    """The local cloud cannot run this function at all (e.g. a runtime it does not support)."""


class WorkerFailedError(Exception):
    """The worker died or timed out; its payload is what AWS would report for that."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error["errorMessage"])
        self.error = error


@dataclass(frozen=True)
class Layer:
    arn: str
    sha256: str
    content: bytes = field(repr=False, compare=False)


@dataclass(frozen=True)
class FunctionSpec:
    """Everything that shapes an execution environment; a change means new workers."""

    name: str
    arn: str
    version: str
    runtime: str
    handler: str
    timeout_s: float
    memory_mb: int
    env: tuple[tuple[str, str], ...]
    code_sha256: str
    layers: tuple[Layer, ...]
    code: bytes = field(repr=False, compare=False)

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(repr(self).encode()).hexdigest()[:16]

    @property
    def bundle_id(self) -> str:
        """Names the extracted code and layers, which only code and layer changes replace."""
        parts = [self.code_sha256, *(layer.sha256 for layer in self.layers)]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def spec_of(function: Any) -> FunctionSpec:
    """Read what we need from moto's LambdaFunction (and its backend's layer versions)."""
    from moto.awslambda.models import lambda_backends

    backend = lambda_backends[function.account_id][function.region]
    layers = []
    for entry in function.layers:
        layer = backend.layers_versions_by_arn(entry["Arn"])
        if layer is None:
            raise LambdaRuntimeError(f"{function.function_name}: layer {entry['Arn']} is gone")
        layers.append(Layer(entry["Arn"], layer.code_sha_256, layer.code_bytes))
    return FunctionSpec(
        name=function.function_name,
        arn=function.function_arn,
        version=str(function.version),
        runtime=function.run_time or "",
        handler=function.handler or "",
        timeout_s=float(function.timeout),
        memory_mb=int(function.memory_size),
        env=tuple(sorted((str(k), str(v)) for k, v in function.environment_vars.items())),
        code_sha256=function.code_sha_256,
        layers=tuple(layers),
        code=function.code_bytes,
    )


class Interpreters:
    """Find the interpreter for a runtime: pyenv's, then PATH's, else the host's (said once)."""

    def __init__(self, ctx: LocalCloudContext) -> None:
        self._log = ctx.child_logger("lambda")
        self._found: dict[str, tuple[Path, bool]] = {}
        self._lock = threading.Lock()

    def for_runtime(self, runtime: str) -> tuple[Path, bool]:
        """(interpreter, is_host_fallback)."""
        match = re.fullmatch(r"python(3\.\d+)", runtime)
        if not match:
            raise LambdaRuntimeError(
                f"runtime {runtime!r} cannot run in the local cloud: only python3.x zip "
                "functions are supported (no container images without Docker)"
            )
        with self._lock:
            if runtime not in self._found:
                self._found[runtime] = self._find(match.group(1))
            return self._found[runtime]

    def _find(self, version: str) -> tuple[Path, bool]:
        pyenv = shutil.which("pyenv")
        if pyenv:
            listed = subprocess.run([pyenv, "versions", "--bare"], capture_output=True, text=True)
            matching = [v for v in listed.stdout.split() if re.fullmatch(rf"{version}\.\d+", v)]
            if matching:
                best = max(matching, key=lambda v: int(v.rsplit(".", 1)[1]))
                which = subprocess.run(
                    [pyenv, "which", "python"],
                    capture_output=True,
                    text=True,
                    env={**os.environ, "PYENV_VERSION": best},
                )
                if which.returncode == 0 and which.stdout.strip():
                    return Path(which.stdout.strip()), False
        on_path = shutil.which(f"python{version}")
        if on_path:
            return Path(on_path), False
        host = f"{sys.version_info.major}.{sys.version_info.minor}"
        self._log.warning(
            "no Python %s interpreter found (pyenv or python%s on PATH); python%s functions "
            "will run under the host's Python %s. Install it with `pyenv install %s` for "
            "fidelity: layers with compiled extensions are then swapped for the host's builds.",
            version,
            version,
            version,
            host,
            version,
        )
        return Path(sys.executable), version != host


def _link_packages(target: Path, names: tuple[str, ...]) -> list[str]:
    """Symlink the host's copies of these top-level modules into target; returns those found."""
    target.mkdir(parents=True, exist_ok=True)
    linked = []
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        source = Path(spec.origin)
        source = source.parent if source.name == "__init__.py" else source
        link = target / source.name
        if not link.exists():
            link.symlink_to(source)
        linked.append(name)
    return linked


def _extract(zip_bytes: bytes, target: Path) -> None:
    # target is checked by Bundles; zipfile itself keeps members inside it (it drops ".." and
    # leading "/" from member names, and writes symlink entries as plain files).
    staging = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
    staging.mkdir(parents=True)
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        archive.extractall(staging)
    staging.rename(target)


def _mismatched_extensions(opt_python: Path) -> set[str]:
    """Top-level packages in a layer whose compiled extensions the host interpreter cannot load."""
    host_suffix = sysconfig.get_config_var("EXT_SUFFIX") or ""
    names = set()
    for extension in opt_python.rglob("*.cpython-*.so"):
        if not extension.name.endswith(host_suffix):
            names.add(extension.relative_to(opt_python).parts[0].split(".")[0])
    return names


class Bundles:
    """Extracted code, layers and runtime packages under .localcloud/<port>/lambda/."""

    def __init__(self, ctx: LocalCloudContext) -> None:
        self._root = ctx.state_dir / "lambda"
        self._log = ctx.child_logger("lambda")
        # One lock per bundle: unpacking one function's 7 MB layer must not hold up a cold
        # start of another. The short-lived _locks_lock only guards the table of locks.
        self._locks: dict[Path, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._runtime_lock = threading.Lock()
        self._runtime_dir: Path | None = None

    def _lock_for(self, bundle: Path) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(bundle, threading.Lock())

    def sys_path(self, spec: FunctionSpec, host_fallback: bool) -> tuple[Path, list[str]]:
        """Extract the function once per bundle; returns (task root, sys.path entries)."""
        # CreateFunction admits only [a-zA-Z0-9-_] names (or ARNs: their ":" become "_").
        folder = re.sub(r"[^A-Za-z0-9_-]", "_", spec.name)
        try:
            bundle = paths.inside(self._root, folder, spec.bundle_id)
        except paths.PathOutsideRootError as error:
            raise LambdaRuntimeError(f"{spec.name}: {error}") from error
        task, opt = bundle / "task", bundle / "opt"
        with self._lock_for(bundle):
            if not task.exists():
                _extract(spec.code, task)
            if not opt.exists():
                opt.parent.mkdir(parents=True, exist_ok=True)
                staging = opt.with_name(f".opt.{uuid.uuid4().hex}")
                staging.mkdir()
                for layer in spec.layers:  # later layers overwrite earlier ones, as on AWS
                    with zipfile.ZipFile(io.BytesIO(layer.content)) as archive:
                        archive.extractall(staging)
                staging.rename(opt)
            runtime = self._runtime()
            compat = self._host_compat(bundle, opt / "python") if host_fallback else []
        version = re.sub(r"^python", "", spec.runtime)
        path = [
            str(task),
            *compat,
            f"{opt}/python/lib/python{version}/site-packages",
            f"{opt}/python",
            str(runtime),
        ]
        return task, path

    def _runtime(self) -> Path:
        with self._runtime_lock:
            if self._runtime_dir is None:
                runtime = self._root / "runtime"
                _link_packages(runtime, RUNTIME_PACKAGES)
                self._runtime_dir = runtime
            return self._runtime_dir

    def _host_compat(self, bundle: Path, opt_python: Path) -> list[str]:
        names = _mismatched_extensions(opt_python) if opt_python.exists() else set()
        if not names:
            return []
        compat = bundle / "host-compat"
        linked = _link_packages(compat, tuple(sorted(names)))
        self._log.warning(
            "layer packages %s were built for another Python; using the host's %s instead",
            sorted(names),
            linked or "(none installed: their import will fail)",
        )
        return [str(compat)]


class Worker:
    """One warm execution environment: a bootstrap process serving one invocation at a time."""

    def __init__(
        self, spec: FunctionSpec, python: Path, task: Path, path: list[str], ctx: LocalCloudContext
    ) -> None:
        self.spec = spec
        self.id = uuid.uuid4().hex
        self.log_path = paths.inside(task.parent, "logs", f"{self.id}.log")
        self.log_path.parent.mkdir(exist_ok=True)
        self.log_stream = f"{datetime.now(UTC):%Y/%m/%d}/[{spec.version}]{self.id}"
        self.invocations = 0
        self.peak_rss_kb: int | None = None  # the REPORT line's Max Memory Used
        self._log_offset = 0
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "TZ": ":UTC",
            "AWS_ENDPOINT_URL": ctx.endpoint_url,
            **dict(spec.env),
            # Reserved by AWS: a function's own environment cannot override these. The key is
            # the one this local cloud issued, as Lambda hands the execution role's to a function.
            **{k: v for k, v in ctx.aws_env().items() if k != "AWS_ENDPOINT_URL"},
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": self.log_stream,
            "_HANDLER": spec.handler,
            "LAMBDA_TASK_ROOT": str(task),
            "LAMBDA_RUNTIME_DIR": str(path[-1]),
            "_LOCALCLOUD_SYS_PATH": json.dumps(path),
        }
        began = time.monotonic()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(python), "-I", "-u", str(BOOTSTRAP)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
                cwd=task,
            )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True, name=f"lambda-{spec.name}").start()
        ready = self._reply("init", INIT_TIMEOUT_S)
        self.pid = int(json.loads(ready)["pid"])
        self.init_ms: float | None = (time.monotonic() - began) * 1000

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.decode())
        self._lines.put(None)

    def _reply(self, request_id: str, timeout: float) -> str:
        """The worker's next protocol line; a worker that dies or overruns is killed."""
        deadline = time.monotonic() + timeout
        while True:
            wait = min(lambda_memory.WATCH_INTERVAL_S, deadline - time.monotonic())
            try:
                line = self._lines.get(timeout=max(wait, 0.0))
                break
            except queue.Empty:
                self._check_memory(request_id)
                if time.monotonic() < deadline:
                    continue
            self.kill()  # a timed-out environment is discarded on AWS too
            self.process.wait()
            # Newer AWS runtimes report this shape; Step Functions then sees "Sandbox.Timedout".
            message = f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds"
            error = {"errorMessage": message, "errorType": "Sandbox.Timedout"}
            raise WorkerFailedError(error) from None
        if line is None:  # stdout closed: the process exited (sys.exit, os._exit, a crash)
            code = self.process.wait()
            message = (
                f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}"
            )
            raise WorkerFailedError({"errorMessage": message, "errorType": "Runtime.ExitError"})
        return line

    def _check_memory(self, request_id: str) -> None:
        """Kill the worker, as Lambda's memory cgroup would, once its peak exceeds MemorySize."""
        peak = lambda_memory.peak_rss_kb(self.process.pid)
        self.peak_rss_kb = max(peak or 0, self.peak_rss_kb or 0) or None
        if lambda_memory.over_limit(peak, self.spec.memory_mb):
            self.kill()
            self.process.wait()
            raise WorkerFailedError(lambda_memory.out_of_memory_error(request_id))

    def invoke(self, request_id: str, event: str) -> tuple[dict[str, Any], str]:
        """Run one event; returns (bootstrap response, log text). Raises WorkerFailedError."""
        assert self.process.stdin is not None
        self.invocations += 1
        deadline = time.time() + self.spec.timeout_s
        request = {
            "request_id": request_id,
            "event": event,
            "deadline_ms": int(deadline * 1000),
            "invoked_function_arn": self.spec.arn,
            "log_stream": self.log_stream,
        }
        # A write to a dead worker fails; _reply then reports how it exited.
        with contextlib.suppress(OSError):
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()
        line = self._reply(request_id, self.spec.timeout_s)
        response: dict[str, Any] = json.loads(line)
        self.peak_rss_kb = response.get("max_rss_kb") or self.peak_rss_kb
        if lambda_memory.over_limit(self.peak_rss_kb, self.spec.memory_mb):
            # The peak passed MemorySize and fell back between two watchdog reads; the cgroup
            # on AWS would have killed the runtime at that moment, so the result is not kept.
            self.kill()
            self.process.wait()
            raise WorkerFailedError(lambda_memory.out_of_memory_error(request_id))
        if response.get("fatal"):  # the runtime ended its environment (MemoryError at the cap)
            self.kill()
            self.process.wait()
        return response, self.read_log()

    def read_log(self) -> str:
        with self.log_path.open("rb") as log:
            log.seek(self._log_offset)
            text = log.read()
        self._log_offset += len(text)
        return text.decode(errors="replace")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()


class FunctionPool:
    """Warm workers of one function configuration; more are started while all are busy."""

    def __init__(self, spec: FunctionSpec, start: Any) -> None:
        self.spec = spec
        self._start = start
        self._idle: list[Worker] = []
        self._count = 0
        self._retired = False
        self._cond = threading.Condition()

    def acquire(self) -> Worker:
        with self._cond:
            while not self._idle and self._count >= MAX_WORKERS_PER_FUNCTION:
                self._cond.wait()
            if self._idle:
                return self._idle.pop()
            self._count += 1
        try:
            worker: Worker = self._start(self.spec)
            return worker
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise

    def release(self, worker: Worker, reusable: bool) -> None:
        with self._cond:
            if reusable and not self._retired and worker.process.poll() is None:
                self._idle.append(worker)
            else:
                worker.kill()
                self._count -= 1
            self._cond.notify()

    def retire(self) -> None:
        """Stop idle workers now and busy ones when they finish (the config changed)."""
        with self._cond:
            self._retired = True
            for worker in self._idle:
                worker.kill()
            self._count -= len(self._idle)
            self._idle.clear()


class LambdaRuntime:
    """Runs invocations for moto's Lambda backend."""

    def __init__(self, ctx: LocalCloudContext) -> None:
        self._ctx = ctx
        self._log = ctx.child_logger("lambda")
        self._interpreters = Interpreters(ctx)
        self._bundles = Bundles(ctx)
        self._pools: dict[str, FunctionPool] = {}  # by function ARN (qualified for versions)
        self._lock = threading.Lock()
        self._logs_lock = threading.Lock()  # moto's logs backend is not thread-safe

    def _pool(self, spec: FunctionSpec) -> FunctionPool:
        with self._lock:
            pool = self._pools.get(spec.arn)
            if pool is None or pool.spec != spec:
                if pool is not None:
                    self._log.info("%s changed: new execution environments", spec.name)
                    pool.retire()
                pool = self._pools[spec.arn] = FunctionPool(spec, self._start_worker)
            return pool

    def _start_worker(self, spec: FunctionSpec) -> Worker:
        python, host_fallback = self._interpreters.for_runtime(spec.runtime)
        task, path = self._bundles.sys_path(spec, host_fallback)
        worker = Worker(spec, python, task, path, self._ctx)
        self._log.info(
            "%s: cold start pid %d (%s) in %.0f ms",
            spec.name,
            worker.pid,
            python,
            worker.init_ms or 0,
        )
        return worker

    def invoke(
        self,
        function: Any,
        body: str | bytes | None,
        headers: Any,
        response_headers: dict[str, str],
    ) -> bytes:
        event = body.decode() if isinstance(body, bytes) else (body or "")
        invocation_type = headers.get("x-amz-invocation-type", "RequestResponse")
        spec = spec_of(function)
        if invocation_type == "DryRun":
            return b""
        if invocation_type == "Event":
            threading.Thread(target=self._run, args=(function, spec, event), daemon=True).start()
            return b""
        payload, error, log = self._run(function, spec, event)
        if error:
            response_headers["x-amz-function-error"] = "Unhandled"
        response_headers["x-amz-executed-version"] = spec.version
        tail = log.encode()[-LOG_TAIL_BYTES:]
        response_headers["x-amz-log-result"] = base64.b64encode(tail).decode()
        return payload

    def _run(self, function: Any, spec: FunctionSpec, event: str) -> tuple[bytes, bool, str]:
        """(payload, is_error, log text) of one invocation."""
        request_id = str(uuid.uuid4())
        pool = self._pool(spec)
        began = time.monotonic()
        worker: Worker | None = None
        try:
            worker = pool.acquire()
            response, output = worker.invoke(request_id, event)
        except WorkerFailedError as failed:
            output = worker.read_log() if worker else ""
            response = {"ok": False, "error": failed.error}
        finally:
            if worker is not None:
                pool.release(worker, reusable=worker.process.poll() is None)
        duration_ms = (time.monotonic() - began) * 1000
        if response["ok"]:
            payload = response["payload"].encode()
        else:
            payload = json.dumps(response["error"]).encode()
            self._log.info("%s %s: %s", spec.name, request_id, response["error"]["errorType"])
        error = None if response["ok"] else response["error"]
        log = self._record(function, spec, worker, request_id, output, duration_ms, error)
        return payload, not response["ok"], log

    def _record(
        self,
        function: Any,
        spec: FunctionSpec,
        worker: Worker | None,
        request_id: str,
        output: str,
        duration_ms: float,
        error: dict[str, Any] | None = None,
    ) -> str:
        """Write START/output/END/REPORT to /aws/lambda/<name>, as AWS does."""
        init = used = ""
        if worker is not None and worker.peak_rss_kb is not None:
            used = f"\tMax Memory Used: {-(-worker.peak_rss_kb // 1024)} MB"
        status = lambda_memory.report_status(error)
        if worker is not None and worker.invocations == 1 and worker.init_ms is not None:
            init = f"\tInit Duration: {worker.init_ms:.2f} ms"
        lines = [
            f"START RequestId: {request_id} Version: {spec.version}",
            *output.splitlines(),
            f"END RequestId: {request_id}",
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tBilled Duration: "
            f"{int(duration_ms) + 1} ms\tMemory Size: {spec.memory_mb} MB{used}{init}{status}",
        ]
        stream = worker.log_stream if worker else f"{datetime.now(UTC):%Y/%m/%d}/[failed]"
        group = f"/aws/lambda/{spec.name}"
        now = int(time.time() * 1000)
        with self._logs_lock:
            logs = function.logs_backend
            logs.ensure_log_group(group)
            if stream not in logs.groups[group].streams:
                logs.create_log_stream(group, stream)
            logs.put_log_events(group, stream, [{"timestamp": now, "message": m} for m in lines])
        self._extract_metrics(function, spec, output.splitlines())
        return "\n".join(lines) + "\n"

    def _extract_metrics(self, function: Any, spec: FunctionSpec, lines: list[str]) -> None:
        """What CloudWatch Logs does with EMF documents among the function's log lines."""
        from moto.cloudwatch.models import cloudwatch_backends

        now = datetime.now(UTC).replace(tzinfo=None)
        for line in lines:
            try:
                found = emf.parse(line, now=now)
            except emf.InvalidEmfError as error:
                # AWS keeps such a line as a plain log event (and counts it in AWS/Logs).
                self._log.info("%s: EMF document ignored: %s", spec.name, error)
                continue
            if found is None:
                continue
            backend = cloudwatch_backends[function.account_id][function.region]
            for namespace, data in found.by_namespace.items():
                backend.put_metric_data(namespace, data)

    def shutdown(self) -> None:
        with self._lock:
            for pool in self._pools.values():
                pool.retire()


def install(ctx: LocalCloudContext) -> None:
    require_moto_version()
    from moto.awslambda.models import LambdaFunction
    from moto.core.config import default_user_config

    # Our hook sits in LambdaFunction.invoke; the "simple" backend (use_docker false) bypasses it.
    default_user_config.setdefault("lambda", {})["use_docker"] = True
    runtime = LambdaRuntime(ctx)

    def invoke(self: Any, body: str, request_headers: Any, response_headers: Any) -> bytes:
        return runtime.invoke(self, body, request_headers, response_headers)

    patch_attribute(LambdaFunction, "invoke", invoke)
    _check_names_on_create()
    ctx.on_shutdown(runtime.shutdown)
    ctx.child_logger("lambda").info("Lambda runtime installed (workers under %s)", ctx.state_dir)


def _check_names_on_create() -> None:
    """CreateFunction and PublishLayerVersion refuse names outside AWS's patterns, as AWS does.

    moto 5.2.5 checks neither, and the function name becomes a folder of extracted code.
    """
    from moto.awslambda.models import LambdaBackend

    create_function = LambdaBackend.create_function
    publish_layer_version = LambdaBackend.publish_layer_version
    if getattr(create_function, "__module__", "") == __name__:
        return  # installed already (a second server in this process)

    def checked_create_function(self: Any, spec: dict[str, Any]) -> Any:
        names.raise_lambda(names.function_name_violations(spec.get("FunctionName")))
        return create_function(self, spec)

    def checked_publish_layer_version(self: Any, spec: dict[str, Any]) -> Any:
        # The name arrives as a URL path segment, still percent-encoded in server mode.
        name = spec.get("LayerName")
        names.raise_lambda(names.LAYER_NAME.violations(unquote(name) if name else name))
        return publish_layer_version(self, spec)

    patch_attribute(LambdaBackend, "create_function", checked_create_function)
    patch_attribute(LambdaBackend, "publish_layer_version", checked_publish_layer_version)
