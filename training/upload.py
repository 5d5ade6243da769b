"""`make upload`: copy build/data to S3 in the channel layout, skipping objects already there.

train/ and validation/ keep the channel layout (train/<class>/<file>.png), which the relative
paths of their .lst files need. The test split goes flat, test/<file>.png, as in the original
project: its test event, which the workflow must keep accepting, names test/bicycle_s_000513.png.
So that test_lst/test.lst describes the bucket, its paths are relative to test/ (the file name
alone; index and label unchanged), while build/data/test.lst keeps <class>/<file>.png: the class
of s3://<bucket>/test/<file> is the label on <file>'s row of test_lst/test.lst. Two test images
of different classes with one file name would share a key: CollidingTestKeyError, raised before
anything is uploaded.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from tqdm import tqdm

from training.aws import client
from training.errors import CollidingTestKeyError, ConfigError, TrainingToolError
from training.terraform_outputs import ENVS_DIR, output_value

SPLITS = ("train", "validation", "test")
FLAT_SPLITS = frozenset({"test"})  # uploaded as <split>/<file>, not <split>/<class>/<file>
WORKERS = 16


@dataclass(frozen=True)
class Item:
    """One file to put at one key; `body`, when given, is uploaded instead of the file's bytes."""

    path: Path
    key: str
    body: bytes | None = None

    @property
    def content_type(self) -> str:
        return "image/png" if self.path.suffix == ".png" else "text/plain"

    def read(self) -> bytes:
        return self.path.read_bytes() if self.body is None else self.body


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


def _lst_rows(lst: Path) -> list[tuple[str, str, str]]:
    """(columns before the path, path, line ending) per line; ("", "", line) for a blank line.

    The path is the last tab-separated column, as in the algorithm's .lst format.
    """
    rows = []
    for number, line in enumerate(lst.read_text(encoding="utf-8").splitlines(keepends=True), 1):
        content = line.rstrip("\r\n")
        if not content.strip():
            rows.append(("", "", line))
            continue
        head, tab, relative = content.rpartition("\t")
        if not (tab and head and relative):
            raise ConfigError(f"{lst}:{number} is not index<TAB>label<TAB>path; run `make data`")
        rows.append((head, relative, line[len(content) :]))
    return rows


def flat_names(lst: Path, relatives: Sequence[str]) -> dict[str, str]:
    """Path in lst (<class>/<file>) -> its path in the flat split (<file>), collisions refused."""
    owners: dict[str, str] = {}
    for relative in relatives:
        name = PurePosixPath(relative).name
        other = owners.setdefault(name, relative)
        if other != relative:
            raise CollidingTestKeyError(
                f"{lst} lists {other} and {relative}, which would both be uploaded as "
                f"{name} under test/ (the test split is uploaded flat, as the original project's "
                "test event expects); rename one of them and run `make data` again"
            )
    return {relative: name for name, relative in owners.items()}


def plan(data: Path, prefix: str = "") -> list[Item]:
    """Every image listed by each split's .lst, and the .lst files, with their keys."""
    prefixes = channel_prefixes(prefix)
    items: list[Item] = []
    for split in SPLITS:
        lst = data / f"{split}.lst"
        if not lst.is_file():
            raise ConfigError(f"{lst} does not exist; run `make data` first")
        rows = _lst_rows(lst)
        relatives = [relative for head, relative, _ in rows if head]
        lst_key = f"{prefixes[f'{split}_lst']}{split}.lst"
        if split in FLAT_SPLITS:
            keyed = flat_names(lst, relatives)
            body = "".join(
                f"{head}\t{keyed[relative]}{end}" if head else end for head, relative, end in rows
            )
            items.append(Item(lst, lst_key, body.encode("utf-8")))
        else:
            keyed = {relative: relative for relative in relatives}
            items.append(Item(lst, lst_key))
        items.extend(
            Item(data / split / relative, f"{prefixes[split]}{keyed[relative]}")
            for relative in relatives
        )
    return items


def _digests(body: bytes) -> tuple[str, str]:
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
        body = item.read()
        md5, sha256 = _digests(body)
        if _unchanged(s3, bucket, item, etags.get(item.key), md5, sha256):
            return False
        s3.put_object(
            Bucket=bucket,
            Key=item.key,
            Body=body,
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
        result = sync(client("s3", args.env), bucket, args.data, args.prefix, args.workers)
    except TrainingToolError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"uploaded {result.uploaded}, unchanged {result.skipped} (s3://{bucket}/{args.prefix})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
