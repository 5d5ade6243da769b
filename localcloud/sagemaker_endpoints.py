"""SageMaker endpoints for real: load the model artifact, serve InvokeEndpoint, capture data."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import io
import os
import random
import shutil
import tarfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from localcloud import (
    names,
    paths,
    sagemaker_capture,
    sagemaker_deployments,
    sagemaker_moto,
    sagemaker_registry,
    sagemaker_runtime,
)
from localcloud.plugin import LocalCloudContext
from localcloud.sagemaker_training import IMAGE_CLASSIFICATION_IMAGE

# The module whose load_model(model_dir) serves a model: a module name or a path to a .py file.
INFERENCE_MODULE_ENV = "LOCALCLOUD_SAGEMAKER_INFERENCE"
DEFAULT_INFERENCE_MODULE = "training.local_trainer.inference"
# Inference runs in the server process; one torch thread per request keeps 2 cores responsive.
TORCH_THREADS_ENV = "LOCALCLOUD_TORCH_THREADS"
LOG_GROUP = "/aws/sagemaker/Endpoints/{endpoint}"


class Predictor(Protocol):
    """What training.local_trainer.inference.load_model returns."""

    def predict(self, body: bytes, content_type: str) -> list[float]: ...


class ModelLoadError(Exception):
    """A variant's model cannot be served; str(error) becomes the endpoint's FailureReason."""


@dataclass(frozen=True)
class Variant:
    """One production variant, loaded and ready to predict."""

    name: str
    model_name: str
    weight: float
    predictor: Predictor
    model_dir: Path
    sha: str  # of model.tar.gz: endpoints serving the same artifact share one loaded model
    # What the model raises for a request it cannot read (the container answers 4xx); anything
    # else it raises is the model server failing (5xx). From the inference module's CLIENT_ERRORS.
    client_errors: tuple[type[BaseException], ...] = ()


@dataclass
class LiveEndpoint:
    """What InvokeEndpoint needs of an InService endpoint."""

    account_id: str
    region: str
    name: str
    config_name: str
    variants: list[Variant]
    capture: sagemaker_capture.CaptureConfig | None
    log: sagemaker_moto.LogStreamWriter
    chooser: random.Random
    # During a blue/green deployment (sagemaker_deployments): the new fleet and its share.
    green: LiveEndpoint | None = None
    green_share: float = 0.0

    def pick(self, target: str | None) -> Variant | None:
        green = self.green
        if green is not None and self.chooser.random() < self.green_share:
            return green.pick(target)
        if target:
            return next((v for v in self.variants if v.name == target), None)
        if len(self.variants) == 1:
            return self.variants[0]
        weights = [max(v.weight, 0.0) for v in self.variants]
        if not any(weights):
            weights = [1.0] * len(self.variants)
        return self.chooser.choices(self.variants, weights=weights)[0]


class EndpointService:
    """Loads models for endpoints in background threads and keeps the InService ones."""

    def __init__(self, ctx: LocalCloudContext) -> None:
        self.models_root = ctx.state_dir / "sagemaker" / "models"
        self.logger = ctx.child_logger("sagemaker.endpoints")
        self.capture = sagemaker_capture.CaptureWriter(ctx.child_logger("sagemaker.capture"))
        self._live: dict[tuple[str, str, str], LiveEndpoint] = {}
        self._predictors: dict[str, Predictor] = {}  # by artifact sha256: shared by endpoints
        # The CLIENT_ERRORS of the module each predictor came from, by the same sha256.
        self._client_errors: dict[str, tuple[type[BaseException], ...]] = {}
        self._generation: dict[tuple[str, str, str], int] = {}
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()  # one model load at a time: loads are CPU-bound
        self._warmed = threading.Event()
        self.deployments = sagemaker_deployments.DeploymentService(
            self, ctx.child_logger("sagemaker.deployments")
        )

    def live(self, account_id: str, region: str, name: str) -> LiveEndpoint | None:
        return self._live.get((account_id, region, name))

    def deploy(
        self,
        backend: Any,
        endpoint: Any,
        config_name: str,
        *,
        update: bool,
        deployment: sagemaker_deployments.DeploymentConfig | None = None,
    ) -> None:
        """Start loading config_name's models for endpoint; status flips when done.

        An update with a deployment config shifts traffic to the new models as it says
        (sagemaker_deployments) once they are loaded; without one they take over at once.
        """
        key = (backend.account_id, backend.region_name, endpoint.endpoint_name)
        with self._lock:
            generation = self._generation.get(key, 0) + 1
            self._generation[key] = generation
        endpoint.endpoint_status = "Updating" if update else "Creating"
        endpoint.last_modified_time = sagemaker_moto.utcnow()
        thread = threading.Thread(
            target=self._load,
            args=(backend, endpoint, config_name, key, generation, update, deployment),
            name=f"endpoint-{endpoint.endpoint_name}",
            daemon=True,
        )
        thread.start()

    def undeploy(self, account_id: str, region: str, name: str) -> None:
        key = (account_id, region, name)
        with self._lock:
            self._generation[key] = self._generation.get(key, 0) + 1  # orphan any load in flight
            live = self._live.pop(key, None)
            self._release_unused()
        if live is not None:
            self.capture.flush_endpoint(live.name)

    def _release_unused(self) -> None:
        """Drop loaded models no live endpoint serves any more (caller holds self._lock)."""
        fleets = [live for live in self._live.values()]
        fleets += [live.green for live in fleets if live.green is not None]
        in_use = {v.sha for live in fleets for v in live.variants}
        for sha in [sha for sha in self._predictors if sha not in in_use]:
            del self._predictors[sha]
            self._client_errors.pop(sha, None)

    def shutdown(self) -> None:
        self.capture.close()

    def warm_up(self) -> None:
        """Import the inference code (and torch, ~3 s) in the background, once.

        Called on CreateModel: an endpoint usually follows within seconds, and its load then
        skips the import. Not at install, so a server that never hosts a model never pays for
        torch.
        """
        if self._warmed.is_set():
            return
        self._warmed.set()
        source = os.environ.get(INFERENCE_MODULE_ENV, DEFAULT_INFERENCE_MODULE)
        if source.endswith(".py"):
            return

        def run() -> None:
            try:
                _import(source)
                _limit_torch_threads()
            except ModelLoadError as error:  # the endpoint's own load will report it
                self.logger.info("inference warm-up skipped: %s", error)

        threading.Thread(target=run, name="inference-warm-up", daemon=True).start()

    def _load(
        self,
        backend: Any,
        endpoint: Any,
        config_name: str,
        key: tuple[str, str, str],
        generation: int,
        update: bool,
        deployment: sagemaker_deployments.DeploymentConfig | None = None,
    ) -> None:
        name = endpoint.endpoint_name
        log = sagemaker_moto.LogStreamWriter(
            key[0], key[1], LOG_GROUP.format(endpoint=name), "AllTraffic/i-localcloud0000000"
        )
        started = time.perf_counter()
        try:
            config = backend.endpoint_configs.get(config_name)
            if config is None:
                raise ModelLoadError(f"Could not find endpoint configuration '{config_name}'.")
            variants = [
                self._load_variant(backend, variant) for variant in config.production_variants
            ]
            if not variants:
                raise ModelLoadError(f"endpoint configuration {config_name} has no variants")
            try:
                capture = sagemaker_capture.CaptureConfig.from_api(config.data_capture_config, name)
            except ValueError as error:
                raise ModelLoadError(f"DataCaptureConfig.DestinationS3Uri: {error}") from error
        except ModelLoadError as error:
            self._finish_failed(endpoint, key, generation, update, str(error), log)
            return
        except Exception as error:  # a bug of ours must still end in Failed, not Creating
            self.logger.exception("endpoint %s: internal error while loading", name)
            self._finish_failed(
                endpoint, key, generation, update, f"InternalFailure: {error!r}", log
            )
            return
        live = LiveEndpoint(
            account_id=key[0],
            region=key[1],
            name=name,
            config_name=config_name,
            variants=variants,
            capture=capture,
            log=log,
            chooser=random.Random(f"{name}/{config_name}"),
        )
        with self._lock:
            if self._generation.get(key) != generation:
                return  # deleted or updated again while we were loading
            previous = self._live.get(key)
        if update and deployment is not None and previous is not None:
            count = int(config.production_variants[0].get("InitialInstanceCount") or 1)
            self.deployments.run(
                endpoint,
                key,
                generation,
                live,
                deployment,
                previous.log,
                count,
                lambda: self._go_live(endpoint, key, generation, live, config, log, started),
            )
            return
        self._go_live(endpoint, key, generation, live, config, log, started)

    def _go_live(
        self,
        endpoint: Any,
        key: tuple[str, str, str],
        generation: int,
        live: LiveEndpoint,
        config: Any,
        log: sagemaker_moto.LogStreamWriter,
        started: float,
    ) -> None:
        name = endpoint.endpoint_name
        config_name = live.config_name
        with self._lock:
            if self._generation.get(key) != generation:
                return  # deleted or updated again while we were loading
            previous = self._live.get(key)
            self._live[key] = live
            endpoint.endpoint_config_name = config_name
            endpoint.production_variants = endpoint._process_production_variants(
                config.production_variants
            )
            endpoint.data_capture_config = config.data_capture_config
            endpoint.failure_reason = None
            endpoint.last_modified_time = sagemaker_moto.utcnow()
            endpoint.endpoint_status = "InService"
            endpoint.localcloud_pending = None
            self._release_unused()
        if previous is not None:
            self.capture.flush_endpoint(name)
        seconds = time.perf_counter() - started
        log.write([f"localcloud: {config_name} loaded in {seconds:.2f}s; endpoint InService"])
        self.logger.info("endpoint %s InService with %s (%.2fs)", name, config_name, seconds)

    def _finish_failed(
        self,
        endpoint: Any,
        key: tuple[str, str, str],
        generation: int,
        update: bool,
        reason: str,
        log: sagemaker_moto.LogStreamWriter,
    ) -> None:
        log.write([f"localcloud: model load failed: {reason}"])
        self.logger.info("endpoint %s: %s", endpoint.endpoint_name, reason)
        with self._lock:
            if self._generation.get(key) != generation:
                return
            endpoint.failure_reason = reason[:1024]
            endpoint.last_modified_time = sagemaker_moto.utcnow()
            endpoint.localcloud_pending = None
            # A failed update rolls back: the old config keeps serving, as on AWS.
            endpoint.endpoint_status = "InService" if update and key in self._live else "Failed"

    # -- what sagemaker_deployments drives ------------------------------------------------
    def current(self, key: tuple[str, str, str], generation: int) -> bool:
        """Whether a deployment started at `generation` is still the endpoint's latest."""
        return self._generation.get(key) == generation

    def set_canary(
        self, key: tuple[str, str, str], generation: int, green: LiveEndpoint | None, share: float
    ) -> None:
        """Route `share` of the endpoint's invocations to the new fleet (None: all on blue)."""
        with self._lock:
            live = self._live.get(key)
            if live is None or self._generation.get(key) != generation:
                return
            live.green, live.green_share = (green, share) if green is not None else (None, 0.0)
            self._release_unused()

    def roll_back(
        self, key: tuple[str, str, str], generation: int, endpoint: Any, reason: str
    ) -> None:
        """The deployment failed: blue serves everything, InService, FailureReason set."""
        with self._lock:
            if self._generation.get(key) != generation:
                return
            live = self._live.get(key)
            if live is not None:
                live.green, live.green_share = None, 0.0
            endpoint.failure_reason = reason[:1024]
            endpoint.last_modified_time = sagemaker_moto.utcnow()
            endpoint.endpoint_status = "InService"
            endpoint.localcloud_pending = None
            self._release_unused()

    def _load_variant(self, backend: Any, variant: dict[str, Any]) -> Variant:
        model_name = variant.get("ModelName", "")
        model = backend._models.get(model_name)
        if model is None:
            raise ModelLoadError(f"Could not find model '{model_name}'.")
        defined = model.primary_container or (model.containers or [{}])[0]
        container = sagemaker_registry.serving_container(backend, defined)
        if container is None:
            raise ModelLoadError(
                f"model {model_name} is built from model package {defined['ModelPackageName']}, "
                "which no longer exists."
            )
        image = container.get("Image", "")
        if not IMAGE_CLASSIFICATION_IMAGE.match(image):
            raise ModelLoadError(
                f"only the built-in image-classification algorithm is emulated by the local cloud;"
                f" model {model_name} uses image {image!r}. Use the image-classification:1 image."
            )
        url = container.get("ModelDataUrl")
        if not url:
            raise ModelLoadError(
                f"model {model_name} has no ModelDataUrl: set PrimaryContainer.ModelDataUrl (or "
                "the model package's InferenceSpecification) to the training job's model.tar.gz."
            )
        started = time.perf_counter()
        model_dir, sha = self._fetch(backend, url)
        fetched = time.perf_counter()
        with self._load_lock:
            predictor = self._predictors.get(sha)
            if predictor is None:
                predictor, errors = self._import_model(model_dir, url)
                self._predictors[sha] = predictor
                self._client_errors[sha] = errors
            client_errors = self._client_errors.get(sha, ())
        self.logger.info(
            "model %s: artifact fetched in %.2fs, loaded in %.2fs",
            model_name,
            fetched - started,
            time.perf_counter() - fetched,
        )
        weight = float(variant.get("InitialVariantWeight", 1.0) or 0.0)
        return Variant(
            variant.get("VariantName", "AllTraffic"),
            model_name,
            weight,
            predictor,
            model_dir,
            sha,
            client_errors,
        )

    def _fetch(self, backend: Any, url: str) -> tuple[Path, str]:
        """Download and unpack model.tar.gz once per content (models/<sha256>/)."""
        try:
            bucket, key = sagemaker_moto.parse_s3_uri(url)
            data = sagemaker_moto.get_object(backend.account_id, backend.region_name, bucket, key)
        except (ValueError, sagemaker_moto.S3ObjectMissingError) as error:
            raise ModelLoadError(
                f"Could not find model data at {url} ({error}). Check the model's ModelDataUrl "
                "and that the training job completed."
            ) from error
        sha = hashlib.sha256(data).hexdigest()
        target = paths.inside(self.models_root, sha)
        if target.is_dir():
            return target, sha
        staging = paths.inside(self.models_root, f".{sha}.{threading.get_ident()}")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
                archive.extractall(staging, filter="data")
        except (tarfile.TarError, OSError, EOFError) as error:
            shutil.rmtree(staging, ignore_errors=True)
            raise ModelLoadError(
                f"Failed to extract model data archive from URL {url}: {error}. Ensure the object "
                "is the tar.gz a training job wrote."
            ) from error
        try:
            staging.rename(target)
        except OSError:  # another load unpacked the same artifact first
            shutil.rmtree(staging, ignore_errors=True)
        return target, sha

    def _import_model(
        self, model_dir: Path, url: str
    ) -> tuple[Predictor, tuple[type[BaseException], ...]]:
        """The loaded model, and the errors its module names as the request's fault."""
        source = os.environ.get(INFERENCE_MODULE_ENV, DEFAULT_INFERENCE_MODULE)
        module = _import(source)
        _limit_torch_threads()
        try:
            predictor: Predictor = module.load_model(model_dir)
        except Exception as error:  # whatever the loader raises, the operator needs the URL
            raise ModelLoadError(
                f"The model at {url} could not be loaded: {type(error).__name__}: {error}"
            ) from error
        _limit_torch_threads()  # load_model may set its own (training-sized) thread count
        return predictor, tuple(getattr(module, "CLIENT_ERRORS", ()))


def _import(source: str) -> Any:
    if source.endswith(".py"):
        spec = importlib.util.spec_from_file_location("localcloud_inference_stand_in", source)
        if spec is None or spec.loader is None:
            raise ModelLoadError(f"{INFERENCE_MODULE_ENV}={source} cannot be imported")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    try:
        return importlib.import_module(source)
    except ImportError as error:
        raise ModelLoadError(
            f"the inference code {source} cannot be imported ({error}); install the project "
            "with its train extra (make venv)."
        ) from error


def _limit_torch_threads() -> None:
    try:
        import torch
    except ImportError:
        return
    threads = int(os.environ.get(TORCH_THREADS_ENV, "1"))
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def _moto_backend_class() -> Any:
    from moto.sagemaker.models import SageMakerModelBackend

    return SageMakerModelBackend


def _create_endpoint_config(self: Any, endpoint_config_name: str, *args: Any, **kwargs: Any) -> Any:
    names.raise_sagemaker(names.ENDPOINT_CONFIG_NAME.violations(endpoint_config_name))
    create = sagemaker_moto.original(_moto_backend_class(), "create_endpoint_config")
    return create(self, endpoint_config_name, *args, **kwargs)


def _render_endpoint(response: dict[str, Any]) -> dict[str, Any]:
    response = dict(response)
    capture = response.pop("DataCaptureConfig", None) or {}
    if capture.get("EnableCapture"):
        # DescribeEndpoint returns a summary, not the config it was created from.
        response["DataCaptureConfig"] = {
            "EnableCapture": True,
            "CaptureStatus": "Started",
            "CurrentSamplingPercentage": capture.get("InitialSamplingPercentage", 0),
            "DestinationS3Uri": capture.get("DestinationS3Uri", ""),
            **({"KmsKeyId": capture["KmsKeyId"]} if capture.get("KmsKeyId") else {}),
        }
    pruned: dict[str, Any] = sagemaker_moto.prune_empty(response)
    return pruned


def _describe_endpoint_response(self: Any) -> Any:
    from moto.core.responses import ActionResult

    name = self._get_param("EndpointName")
    response = dict(self.sagemaker_backend.describe_endpoint(name))
    endpoint = self.sagemaker_backend.endpoints.get(name)
    deployment = getattr(endpoint, "localcloud_deployment", None)
    if deployment is not None:
        # "The most recent deployment configuration for the endpoint": the provider reads its
        # deployment_config back from it (without it every plan would show a change).
        response["LastDeploymentConfig"] = deployment.raw
    pending = getattr(endpoint, "localcloud_pending", None)
    if pending is not None:
        response["PendingDeploymentSummary"] = pending
    return ActionResult(_render_endpoint(response))


def _describe_endpoint_config_response(self: Any) -> Any:
    from moto.core.responses import ActionResult

    response = self.sagemaker_backend.describe_endpoint_config(
        self._get_param("EndpointConfigName")
    )
    # moto answers DataCaptureConfig: {} for a config without capture; AWS omits the member.
    return ActionResult(sagemaker_moto.prune_empty(response))


def _describe_model_response(self: Any) -> Any:
    from moto.core.responses import ActionResult

    model = self.sagemaker_backend.describe_model(self._get_param("ModelName"))
    # moto answers VpcConfig: {} and Containers: [] where AWS omits them (Terraform drift).
    return ActionResult(sagemaker_moto.prune_empty(model.response_object))


def _service_patches(svc: EndpointService) -> dict[str, Any]:
    """The replacements that act on endpoints, bound to this server's EndpointService."""

    def create_endpoint(self: Any, endpoint_name: str, endpoint_config_name: str, tags: Any) -> Any:
        names.raise_sagemaker(
            names.ENDPOINT_NAME.violations(endpoint_name)
            + names.ENDPOINT_CONFIG_NAME.violations(endpoint_config_name)
        )
        create = sagemaker_moto.original(_moto_backend_class(), "create_endpoint")
        endpoint = create(self, endpoint_name, endpoint_config_name, tags)
        endpoint.endpoint_status = "Creating"
        svc.deploy(self, endpoint, endpoint_config_name, update=False)
        return endpoint

    def update_endpoint(
        self: Any,
        endpoint_name: str,
        endpoint_config_name: str,
        deployment_config: Any = None,
        retain_deployment_config: bool = False,
    ) -> Any:
        from moto.sagemaker.exceptions import ValidationError

        deployment = _parse_deployment(deployment_config)

        endpoint = self.endpoints.get(endpoint_name)
        if endpoint is None:
            arn = f"arn:aws:sagemaker:{self.region_name}:{self.account_id}:endpoint/{endpoint_name}"
            raise ValidationError(message=f"Could not find endpoint '{arn}'.")
        if endpoint_config_name not in self.endpoint_configs:
            arn = (
                f"arn:aws:sagemaker:{self.region_name}:{self.account_id}:endpoint-config/"
                f"{endpoint_config_name}"
            )
            raise ValidationError(message=f"Could not find endpoint configuration '{arn}'.")
        if endpoint.endpoint_status not in ("InService", "Failed"):
            raise ValidationError(
                message=f"Cannot update in-progress endpoint '{endpoint.arn}' "
                f"(status {endpoint.endpoint_status}); wait for InService."
            )
        if deployment is None and retain_deployment_config:
            deployment = getattr(endpoint, "localcloud_deployment", None)
        if deployment is not None:
            variants = self.endpoint_configs[endpoint_config_name].production_variants
            count = int((variants or [{}])[0].get("InitialInstanceCount") or 1)
            try:
                deployment.steps(count)
            except sagemaker_deployments.DeploymentConfigError as error:
                raise ValidationError(message=str(error)) from None
        update = endpoint.endpoint_status == "InService"
        endpoint.localcloud_deployment = deployment
        endpoint.localcloud_pending = (
            {"EndpointConfigName": endpoint_config_name, "StartTime": sagemaker_moto.utcnow()}
            if update
            else None
        )
        svc.deploy(self, endpoint, endpoint_config_name, update=update, deployment=deployment)
        return endpoint

    def delete_endpoint(self: Any, endpoint_name: str) -> None:
        delete = sagemaker_moto.original(_moto_backend_class(), "delete_endpoint")
        delete(self, endpoint_name)
        svc.undeploy(self.account_id, self.region_name, endpoint_name)

    def create_model_response(self: Any) -> Any:
        from moto.sagemaker.responses import SageMakerResponse

        names.raise_sagemaker(names.MODEL_NAME.violations(self._get_param("ModelName")))
        result = sagemaker_moto.original(SageMakerResponse, "create_model")(self)
        # moto 5.2.5 drops EnableNetworkIsolation (always False): Terraform would replace the model
        # on every plan of a config that sets it.
        model = self.sagemaker_backend._models.get(self._get_param("ModelName"))
        if model is not None:
            model.enable_network_isolation = bool(self._get_param("EnableNetworkIsolation", False))
            svc.warm_up()
        return result

    return {
        "create_endpoint": create_endpoint,
        "update_endpoint": update_endpoint,
        "delete_endpoint": delete_endpoint,
        "create_model": create_model_response,
    }


def _parse_deployment(raw: Any) -> sagemaker_deployments.DeploymentConfig | None:
    from moto.sagemaker.exceptions import ValidationError

    try:
        return sagemaker_deployments.parse(raw)
    except sagemaker_deployments.DeploymentConfigError as error:
        raise ValidationError(message=str(error)) from None


def _update_endpoint_response(self: Any) -> Any:
    from moto.core.responses import ActionResult

    endpoint = self.sagemaker_backend.update_endpoint(
        self._get_param("EndpointName"),
        self._get_param("EndpointConfigName"),
        self._get_param("DeploymentConfig"),
        bool(self._get_param("RetainDeploymentConfig", False)),
    )
    return ActionResult({"EndpointArn": endpoint.arn})


def _create_endpoint_response(self: Any) -> Any:
    """CreateEndpoint keeping its DeploymentConfig (moto drops it): DescribeEndpoint shows it."""
    from moto.sagemaker.responses import SageMakerResponse

    deployment = _parse_deployment(self._get_param("DeploymentConfig"))
    result = sagemaker_moto.original(SageMakerResponse, "create_endpoint")(self)
    endpoint = self.sagemaker_backend.endpoints.get(self._get_param("EndpointName"))
    if endpoint is not None:
        endpoint.localcloud_deployment = deployment
    return result


def install(ctx: LocalCloudContext) -> None:
    """Make endpoints load real models, serve InvokeEndpoint, capture data and inject faults."""
    sagemaker_moto.require_moto()
    from moto.sagemaker.responses import SageMakerResponse

    svc = EndpointService(ctx)
    patches = _service_patches(svc)
    backend_class = _moto_backend_class()
    sagemaker_moto.patch(backend_class, "create_endpoint", patches["create_endpoint"])
    sagemaker_moto.patch(backend_class, "create_endpoint_config", _create_endpoint_config)
    sagemaker_moto.patch(backend_class, "update_endpoint", patches["update_endpoint"])
    sagemaker_moto.patch(backend_class, "delete_endpoint", patches["delete_endpoint"])
    sagemaker_moto.patch(SageMakerResponse, "create_model", patches["create_model"])
    sagemaker_moto.patch(SageMakerResponse, "update_endpoint", _update_endpoint_response)
    sagemaker_moto.patch(SageMakerResponse, "create_endpoint", _create_endpoint_response)
    sagemaker_moto.patch(SageMakerResponse, "describe_endpoint", _describe_endpoint_response)
    sagemaker_moto.patch(
        SageMakerResponse, "describe_endpoint_config", _describe_endpoint_config_response
    )
    sagemaker_moto.patch(SageMakerResponse, "describe_model", _describe_model_response)
    runtime = sagemaker_runtime.install(ctx, svc)
    runtime.on_metrics = svc.deployments.on_metrics
    ctx.on_shutdown(svc.shutdown)
