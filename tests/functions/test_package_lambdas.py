"""scripts/package_lambdas: reproducible small zips, and each zip running alone on Python 3.12."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from PIL import Image

from scripts import package_lambdas as pkg
from tests.support.lambda_kit import (
    BUCKET,
    ENDPOINT,
    FUNCTIONS_DIR,
    SERVICE,
    FakeSageMaker,
    fake_sagemaker,
    image_bytes,
)
from tests.support.prereq import require

HANDLER_ZIP_LIMIT = 20 * 1024


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_handler_zips_are_reproducible(tmp_path: Path) -> None:
    first = [pkg.build_function_zip(name, tmp_path / "a") for name in pkg.FUNCTIONS]
    second = [pkg.build_function_zip(name, tmp_path / "b") for name in pkg.FUNCTIONS]
    assert [a.sha256 for a in first] == [b.sha256 for b in second]
    assert [sha256(a.path) for a in first] == [a.sha256 for a in first]


def test_timestamps_and_caches_do_not_change_the_bytes(tmp_path: Path) -> None:
    functions = tmp_path / "functions"
    shutil.copytree(FUNCTIONS_DIR, functions, ignore=shutil.ignore_patterns("__pycache__"))
    before = pkg.build_function_zip("filter_inferences", tmp_path / "a", functions_dir=functions)
    for path in functions.rglob("*.py"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    cache = functions / "common" / "__pycache__"
    cache.mkdir()
    (cache / "errors.cpython-311.pyc").write_bytes(b"\x00" * 100)
    after = pkg.build_function_zip("filter_inferences", tmp_path / "b", functions_dir=functions)
    assert before.sha256 == after.sha256


@pytest.mark.parametrize("name", list(pkg.FUNCTIONS))
def test_handler_zip_is_small_self_contained_and_normalised(tmp_path: Path, name: str) -> None:
    artifact = pkg.build_function_zip(name, tmp_path)
    assert artifact.size < HANDLER_ZIP_LIMIT
    with zipfile.ZipFile(artifact.path) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert "handler.py" in names
    assert {"common/__init__.py", "common/errors.py", "common/events.py"} <= set(names)
    assert not [n for n in names if "boto3" in n or "botocore" in n or "PIL" in n]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert {info.date_time for info in infos} == {pkg.ZIP_EPOCH}
    assert {(info.external_attr >> 16) & 0o777 for info in infos} == {0o644}


def test_unknown_function_and_loose_pins_are_named_errors(tmp_path: Path) -> None:
    with pytest.raises(pkg.PackagingError, match="unknown function"):
        pkg.build_function_zip("resize_image", tmp_path)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("pillow>=10\n")
    with pytest.raises(pkg.PackagingError, match="not an exact pin"):
        pkg.pinned_requirements(requirements)


def test_a_lock_line_without_a_hash_is_a_named_error(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("pillow==13.0.0\n")
    with pytest.raises(pkg.PackagingError, match="no --hash=sha256"):
        pkg.pinned_requirements(requirements)


def test_layer_pin_matches_the_tested_pillow() -> None:
    # The tests run on the venv's Pillow; the layer must ship the same version.
    assert pkg.pinned_requirements() == [f"pillow=={Image.__version__}"]


def _cache_with_wheel(cache: Path, content: bytes) -> Path:
    """A wheel of the locked Pillow, by name, in the cache folder of the default target."""
    version = pkg.pinned_requirements()[0].split("==")[1]
    target = cache / f"cp312-{'+'.join(pkg.DEFAULT_PLATFORMS)}"
    target.mkdir(parents=True)
    wheel = target / f"pillow-{version}-cp312-cp312-manylinux_2_28_x86_64.whl"
    wheel.write_bytes(content)
    return wheel


def test_a_cached_wheel_whose_hash_the_lock_lacks_is_refused(tmp_path: Path) -> None:
    # The right file name, other bytes: the name alone no longer lets a wheel into the layer.
    wheel = _cache_with_wheel(tmp_path / "cache", b"PK\x03\x04 not the published wheel")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    with pytest.raises(pkg.WheelHashError) as raised:
        pkg.build_layer(tmp_path / "out", cache_dir=tmp_path / "cache")
    message = str(raised.value)
    assert str(wheel) in message and digest in message and pkg.pinned_requirements()[0] in message
    assert "layer-requirements.txt" in message and "rm " in message
    assert not (tmp_path / "out" / pkg.LAYER_ZIP).exists()


def test_a_cached_wheel_with_a_locked_hash_is_used_without_pip(tmp_path: Path) -> None:
    wheel = _cache_with_wheel(tmp_path / "cache", b"stand-in for a locked wheel")
    lock = tmp_path / "layer-requirements.txt"
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    pin = pkg.pinned_requirements()[0]
    lock.write_text(f"{pin} \\\n    --hash=sha256:{digest}\n    # via -r x.in\n")
    found = pkg.fetch_wheels(
        pkg.locked_requirements(lock),
        "3.12",
        pkg.DEFAULT_PLATFORMS,
        tmp_path / "cache",
        lock_file=lock,
    )
    assert found == [wheel]


def test_cli_without_layer_writes_zips_and_manifest(tmp_path: Path) -> None:
    assert pkg.main(["--out", str(tmp_path), "--no-layer"]) == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["handler"] == "handler.lambda_handler"
    assert manifest["function_names"]["serialize_image_data"] == "serializeImageData"
    for name in pkg.FUNCTIONS:
        entry = manifest["artifacts"][f"{name}.zip"]
        digest = hashlib.sha256((tmp_path / f"{name}.zip").read_bytes()).digest()
        assert entry["sha256"] == digest.hex()
        assert entry["source_code_hash"] == base64.b64encode(digest).decode()


@pytest.mark.slow
def test_failed_download_is_a_layer_build_error(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"pillow==0.0.1 --hash=sha256:{'0' * 64}\n")
    with pytest.raises(pkg.LayerBuildError, match="offline"):
        pkg.build_layer(tmp_path, cache_dir=tmp_path / "cache", requirements_file=requirements)


def _build_layer(out_dir: Path) -> pkg.Artifact:
    try:
        return pkg.build_layer(out_dir)
    except pkg.LayerBuildError as exc:
        require(False, f"the Pillow layer cannot be built here: {exc}")
        raise


@pytest.mark.slow
def test_layer_is_reproducible_and_built_for_the_lambda_runtime(tmp_path: Path) -> None:
    first, second = _build_layer(tmp_path / "a"), _build_layer(tmp_path / "b")
    assert first.sha256 == second.sha256
    with zipfile.ZipFile(first.path) as archive:
        names = archive.namelist()
    assert all(name.startswith("python/") for name in names)
    assert "python/PIL/_imaging.cpython-312-x86_64-linux-gnu.so" in names
    assert not [name for name in names if "cpython-311" in name]


# --- Each zip unpacked alone and run by CPython 3.12, as the Lambda runtime would ------------

LAMBDA_SDK = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")

DRIVER = """
import json, sys, time
started = time.perf_counter()
import handler
import_ms = (time.perf_counter() - started) * 1000
event = json.loads(sys.stdin.read())
try:
    outcome = {"result": handler.lambda_handler(event, None)}
except Exception as exc:
    outcome = {"error_type": type(exc).__name__, "error": str(exc)}
pil = sys.modules.get("PIL")
outcome.update(
    import_ms=import_ms,
    python=sys.version.split()[0],
    pil=getattr(pil, "__file__", None),
    boto3_loaded="boto3" in sys.modules,
)
print("RESULT " + json.dumps(outcome))
"""


def _python312() -> str | None:
    if shutil.which("pyenv") is None:
        return None
    found = subprocess.run(
        ["pyenv", "which", "python"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYENV_VERSION": "3.12.1"},
        check=False,
    )
    return found.stdout.strip() if found.returncode == 0 and found.stdout.strip() else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class LambdaSandbox:
    """Unpacked zips (/var/task), the layer (/opt/python) and the runtime's SDK, under tmp."""

    def __init__(self, root: Path, python: str, env: dict[str, str], fake: FakeSageMaker) -> None:
        self.root, self.python, self.env, self.fake = root, python, env, fake
        self.driver = root / "driver.py"
        self.driver.write_text(DRIVER)

    def invoke(self, name: str, event: dict[str, Any], *, with_sdk: bool = True) -> dict[str, Any]:
        task = self.root / "task" / name
        paths = [task, self.root / "opt" / "python"] + ([self.root / "sdk"] if with_sdk else [])
        # -S: no site-packages of the 3.12 install, so only the layer can provide Pillow.
        result = subprocess.run(
            [self.python, "-S", str(self.driver)],
            input=json.dumps(event),
            capture_output=True,
            text=True,
            cwd=task,
            env={
                **self.env,
                "PYTHONPATH": os.pathsep.join(map(str, paths)),
                # Bytecode goes to the sandbox, never next to the venv's linked SDK sources.
                "PYTHONPYCACHEPREFIX": str(self.root / "pycache"),
            },
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        line = next(x for x in result.stdout.splitlines() if x.startswith("RESULT "))
        outcome: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
        return outcome


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LambdaSandbox]:
    python = _python312()
    require(python is not None, "CPython 3.12 (PYENV_VERSION=3.12.1 pyenv which python)")
    assert python is not None
    from moto.server import ThreadedMotoServer

    root = tmp_path_factory.mktemp("lambda")
    zips = root / "zips"
    for name in pkg.FUNCTIONS:
        with zipfile.ZipFile(pkg.build_function_zip(name, zips).path) as archive:
            archive.extractall(root / "task" / name)
    with zipfile.ZipFile(_build_layer(zips).path) as archive:
        archive.extractall(root / "opt")
    # boto3 and its dependencies are pure Python: link the venv's copies, as the runtime's.
    (root / "sdk").mkdir()
    for module in LAMBDA_SDK:
        spec_origin = Path(__import__(module).__file__ or "")
        source = spec_origin.parent if spec_origin.name == "__init__.py" else spec_origin
        (root / "sdk" / source.name).symlink_to(source)

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    fake = FakeSageMaker()
    try:
        with fake_sagemaker(fake):
            env = {
                "PATH": os.environ.get("PATH", ""),
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{port}",
                "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": fake.url,
                "ENDPOINT_NAME": ENDPOINT,
                "SERVICE_NAME": SERVICE,
            }
            s3 = boto3.client(
                "s3",
                endpoint_url=env["AWS_ENDPOINT_URL_S3"],
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            s3.create_bucket(Bucket=BUCKET)
            photo = image_bytes(size=(1600, 1200), fmt="JPEG", quality=90)
            s3.put_object(Bucket=BUCKET, Key="uploads/photo.jpg", Body=photo)
            s3.put_object(Bucket=BUCKET, Key="uploads/notes.png", Body=b"not an image")
            yield LambdaSandbox(root, python, env, fake)
    finally:
        server.stop()


@pytest.mark.slow
def test_the_three_zips_run_the_workflow_on_python_312(sandbox: LambdaSandbox) -> None:
    event = {"image_data": "", "s3_bucket": BUCKET, "s3_key": "uploads/photo.jpg", "order": 7}

    serialized = sandbox.invoke("serialize_image_data", event)
    assert serialized["python"].startswith("3.12")
    assert serialized["pil"].startswith(str(sandbox.root / "opt" / "python"))
    image = Image.open(io.BytesIO(base64.b64decode(serialized["result"]["image_data"])))
    assert (image.format, image.mode, image.size) == ("PNG", "RGB", (32, 32))

    classified = sandbox.invoke("classify_image", serialized["result"])
    assert classified["result"]["inferences"] == [0.97, 0.03]
    request = sandbox.fake.requests[-1]
    assert request["body"] == base64.b64decode(serialized["result"]["image_data"])

    # filterInferences makes no AWS call: it must run without boto3 on the path at all.
    filtered = sandbox.invoke("filter_inferences", classified["result"], with_sdk=False)
    assert not filtered["boto3_loaded"]
    assert filtered["result"]["label"] == "bicycle"
    assert filtered["result"]["order"] == 7


@pytest.mark.slow
def test_named_errors_surface_from_the_packaged_handler(sandbox: LambdaSandbox) -> None:
    event = {"image_data": "", "s3_bucket": BUCKET, "s3_key": "uploads/notes.png"}
    outcome = sandbox.invoke("serialize_image_data", event)
    assert outcome["error_type"] == "InvalidImage"
    assert "uploads/notes.png" in outcome["error"]
