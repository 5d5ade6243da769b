"""The training loop: read the channels, fit the CNN, log per-epoch metrics, save the model."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 (the usual alias)

from training.errors import InvalidHyperparameterError
from training.labels import CLASSES
from training.local_trainer.augment import crop_and_flip, jitter_colour
from training.local_trainer.contract import MlRoot
from training.local_trainer.data import Channel, load_channel
from training.local_trainer.model import ModelMeta, VehicleNet, probabilities, save_model
from training.local_trainer.params import TrainParams, parse_params

Log = Callable[[str], None]
EVAL_BATCH = 256


def log_stdout(line: str) -> None:
    """Print and flush at once: the local cloud forwards stdout to CloudWatch Logs line by line."""
    print(line, flush=True)


THREADS_VARIABLE = "SCONES_TORCH_THREADS"
MAX_THREADS = 2


def cpu_threads() -> int:
    """SCONES_TORCH_THREADS if set, else two threads on an idle machine and one on a busy one.

    Measured on the 2-core machines: with the other core busy (the local cloud, Terraform, tests),
    two threads made an epoch 2-4x slower than one, because OpenMP workers spin waiting for each
    other. Results are reproducible for a given thread count (logged at the start of the job);
    between 1 and 2 threads they differ only by float rounding (the committed config gave the
    same per-epoch accuracies with both). Set the variable to pin it.
    """
    cores = os.cpu_count() or 1
    explicit = os.environ.get(THREADS_VARIABLE, "").strip()
    if explicit.isdigit() and int(explicit) > 0:
        return min(int(explicit), cores)
    idle_cores = cores - busy_cores()
    return max(1, min(MAX_THREADS, cores, round(idle_cores)))


def busy_cores(window_s: float = 0.5) -> float:
    """How many cores are busy now: /proc/stat over a short window, else the load average.

    The 1-minute load average lags: right after a Terraform apply it still counts a busy core on
    an idle machine, and the committed config then trained on one thread in 148 s instead of
    80 s on two (both measured in `make demo` on 2 cores).
    """
    first = cpu_times()
    if first is None:
        return os.getloadavg()[0]
    time.sleep(window_s)
    second = cpu_times()
    if second is None or second[1] <= first[1]:
        return os.getloadavg()[0]
    idle, total = second[0] - first[0], second[1] - first[1]
    return (1 - idle / total) * (os.cpu_count() or 1)


def cpu_times(stat: Path = Path("/proc/stat")) -> tuple[int, int] | None:
    """(idle, total) jiffies of all CPUs from /proc/stat, or None where there is none."""
    try:
        fields = stat.read_text(encoding="ascii").split("\n", 1)[0].split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu" or len(fields) < 9:
        return None
    # user nice system idle iowait irq softirq steal (guest time is already inside user).
    ticks = [int(value) for value in fields[1:9]]
    return ticks[3] + ticks[4], sum(ticks)


def seed_everything(seed: int) -> torch.Generator:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def normalise(images: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """uint8 (N, C, H, W) to float, centred and scaled per channel."""
    return (images.float() / 255.0 - mean[:, None, None]) / std[:, None, None]


def accuracy(network: VehicleNet, inputs: torch.Tensor, labels: torch.Tensor) -> float:
    network.eval()
    with torch.inference_mode():
        predicted = torch.cat(
            [network(chunk).argmax(1) for chunk in torch.split(inputs, EVAL_BATCH)]
        )
    return float((predicted == labels).float().mean())


def _check_against_data(params: TrainParams, train: Channel) -> None:
    if params.num_training_samples != len(train):
        raise InvalidHyperparameterError(
            f"num_training_samples is {params.num_training_samples} but train.lst lists "
            f"{len(train)} images; set num_training_samples={len(train)}"
        )
    if params.mini_batch_size > len(train):
        raise InvalidHyperparameterError(
            f"mini_batch_size {params.mini_batch_size} exceeds the {len(train)} training images; "
            "lower it"
        )
    if params.num_classes != len(CLASSES):
        raise InvalidHyperparameterError(
            f"num_classes is {params.num_classes}; this classifier has {len(CLASSES)} classes"
        )


def fit(
    params: TrainParams, train: Channel, validation: Channel, log: Log
) -> tuple[VehicleNet, ModelMeta]:
    """Train from scratch with SGD (Nesterov) and a one-cycle learning-rate schedule."""
    generator = seed_everything(params.seed)
    pixels = train.images.float() / 255.0
    mean = pixels.mean(dim=(0, 2, 3))
    std = pixels.std(dim=(0, 2, 3))
    train_x = normalise(train.images, mean, std)
    val_x = normalise(validation.images, mean, std)
    network = VehicleNet(params.num_classes)
    optimizer = torch.optim.SGD(
        network.parameters(),
        lr=params.learning_rate,
        momentum=params.momentum,
        nesterov=params.momentum > 0,
        weight_decay=params.weight_decay,
    )
    batches = len(train) // params.mini_batch_size
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=params.learning_rate, total_steps=params.epochs * batches
    )
    for epoch in range(params.epochs):
        started = time.perf_counter()
        network.train()
        order = torch.randperm(len(train), generator=generator)
        loss_sum, correct, seen = 0.0, 0, 0
        # Full batches only: a last batch of one image would break BatchNorm.
        for step in range(batches):
            index = order[step * params.mini_batch_size : (step + 1) * params.mini_batch_size]
            inputs, labels = train_x[index], train.labels[index]
            if params.augmentation_type != "none":
                inputs = crop_and_flip(inputs, generator)
            if params.augmentation_type in {"crop_color", "crop_color_transform"}:
                inputs = jitter_colour(inputs, generator)
            logits = network(inputs)
            loss = F.cross_entropy(logits, labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            scheduler.step()
            loss_sum += float(loss.detach()) * len(index)
            correct += int((logits.argmax(1) == labels).sum())
            seen += len(index)
        validation_accuracy = accuracy(network, val_x, validation.labels)
        # MXNet's line format, which the built-in algorithm's metric regexes expect.
        log(f"Epoch[{epoch}] Train-accuracy={correct / seen:.6f}")
        log(f"Epoch[{epoch}] Train-cross_entropy={loss_sum / seen:.6f}")
        log(f"Epoch[{epoch}] Time cost={time.perf_counter() - started:.3f}")
        log(f"Epoch[{epoch}] Validation-accuracy={validation_accuracy:.6f}")
    meta = ModelMeta(
        image_shape=params.image_shape,
        classes=CLASSES,
        mean=(float(mean[0]), float(mean[1]), float(mean[2])),
        std=(float(std[0]), float(std[1]), float(std[2])),
    )
    return network, meta


def run(ml_root: MlRoot, log: Log = log_stdout) -> float:
    """One training job: returns the final validation accuracy."""
    threads = cpu_threads()
    torch.set_num_threads(threads)
    params = parse_params(ml_root.read_hyperparameters())
    log(f"hyperparameters: {params}; torch threads: {threads}")
    size = (params.image_shape[1], params.image_shape[2])
    train = load_channel(
        ml_root.channel("train"), ml_root.channel("train_lst"), params.num_classes, size
    )
    validation = load_channel(
        ml_root.channel("validation"), ml_root.channel("validation_lst"), params.num_classes, size
    )
    log(f"loaded {len(train)} training and {len(validation)} validation images")
    _check_against_data(params, train)
    network, meta = fit(params, train, validation, log)
    save_model(network, meta, ml_root.model_dir)
    inputs = normalise(validation.images, torch.tensor(meta.mean), torch.tensor(meta.std))
    predicted = probabilities(network, inputs).argmax(1)
    final = float((predicted == validation.labels).double().mean())
    # The same prediction the endpoint makes (mirror-averaged), unlike the per-epoch lines.
    log(f"saved the model to {ml_root.model_dir}; validation accuracy as served {final:.4f}")
    return final
