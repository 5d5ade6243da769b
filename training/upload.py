"""`make upload`: copy build/data to S3 in the channel layout, skipping objects already there."""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from training.aws import client
from training.errors import ConfigError, TrainingToolError
from training.terraform_outputs import ENVS_DIR, output_value

SPLITS = ("train", "validation", "test")
WORKERS = 16


@dataclass(frozen=True)
class Item:
    """One file to put at one key."""

    path: Path
    key: str

    @property
    def content_type(self) -> str:
        return "image/png" if self.path.suffix == ".png" else "text/plain"


@dataclass(frozen=True)
class SyncResult:
    uploaded: int
    skipped: int


def channel_prefixes(prefix: str = "") -> dict[str, str]:
    """Channel name -> S3 key prefix: train/, validation/, train_lst/, ... (test for the demo)."""
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    prefixes = {}
    for split in SPLITS:
        prefixes[split] = f"{prefix}{split}/"
        prefixes[f"{split}_lst"] = f"{prefix}{split}_lst/"
    return prefixes


def plan(data: Path, prefix: str = "") -> list[Item]:
    """Every image listed by each split's .lst, and the .lst files, with their keys."""
    prefixes = channel_prefixes(prefix)
    items: list[Item] = []
    for split in SPLITS:
        lst = data / f"{split}.lst"
        if not lst.is_file():
            raise ConfigError(f"{lst} does not exist; run `make data` first")
        items.append(Item(lst, f"{prefixes[f'{split}_lst']}{split}.lst"))
        for line in lst.read_text(encoding="utf-8").splitlines():
            if line.strip():
                relative = line.split("\t")[2]
                items.append(Item(data / split / relative, f"{prefixes[split]}{relative}"))
    return items


def _digests(path: Path) -> tuple[str, str]:
    body = path.read_bytes()
    return hashlib.md5(body, usedforsecurity=False).hexdigest(), hashlib.sha256(body).hexdigest()


def existing_etags(s3: Any, bucket: str, prefixes: Sequence[str]) -> dict[str, str]:
    """Key -> ETag (without quotes) of the objects under the given prefixes."""
    etags: dict[str, str] = {}
    paginator = s3.get_paginator("list_objects_v2")
    for prefix in prefixes:
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                etags[entry["Key"]] = entry["ETag"].strip('"')
    return etags


def _unchanged(s3: Any, bucket: str, item: Item, etag: str | None, md5: str, sha256: str) -> bool:
    if etag is None:
        return False
    if etag == md5:
        return True
    # With SSE-KMS the ETag is not the md5: fall back to the sha256 stored at upload time.
    head = s3.head_object(Bucket=bucket, Key=item.key)
    return bool(head.get("Metadata", {}).get("sha256") == sha256)


def sync(
    s3: Any,
    bucket: str,
    data: Path,
    prefix: str = "",
    workers: int = WORKERS,
    progress: bool = True,
) -> SyncResult:
    """Upload what differs, concurrently; return how many objects were uploaded and skipped."""
    items = plan(data, prefix)
    etags = existing_etags(s3, bucket, list(channel_prefixes(prefix).values()))

    def upload_one(item: Item) -> bool:
        md5, sha256 = _digests(item.path)
        if _unchanged(s3, bucket, item, etags.get(item.key), md5, sha256):
            return False
        s3.put_object(
            Bucket=bucket,
            Key=item.key,
            Body=item.path.read_bytes(),
            ContentType=item.content_type,
            Metadata={"sha256": sha256},
        )
        return True

    uploaded = 0
    # boto3 clients are thread-safe; the work is network-bound, so threads suffice.
    with (
        ThreadPoolExecutor(max_workers=workers) as pool,
        tqdm(
            total=len(items), unit="file", desc=f"s3://{bucket}/{prefix}", disable=not progress
        ) as bar,
    ):
        for changed in pool.map(upload_one, items):
            uploaded += int(changed)
            bar.update(1)
    return SyncResult(uploaded=uploaded, skipped=len(items) - uploaded)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training.upload", description=__doc__)
    parser.add_argument("--bucket", help="default: Terraform output bucket_name of --env")
    parser.add_argument("--env", default="local")
    parser.add_argument("--envs-dir", type=Path, default=ENVS_DIR)
    parser.add_argument("--data", type=Path, default=Path("build/data"))
    parser.add_argument("--prefix", default="", help="key prefix before train/, validation/, ...")
    parser.add_argument("--workers", type=int, default=WORKERS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        bucket = args.bucket or output_value(
            args.env, "bucket_name", "--bucket NAME", args.envs_dir
        )
        result = sync(client("s3"), bucket, args.data, args.prefix, args.workers)
    except TrainingToolError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"uploaded {result.uploaded}, unchanged {result.skipped} (s3://{bucket}/{args.prefix})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
