"""ListObjectVersions with encoding-type=url, as AWS answers it (localcloud/s3_listing.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import urllib.parse
from pathlib import Path

import pytest

from localcloud.s3_listing import url_encode_keys
from localcloud.testing import RunningCloud
from scripts.offline_plan import REPO_ROOT

FIXTURE = Path(__file__).parent / "fixtures" / "versioned_bucket"
KEYS = ["incoming/vélo 1+2.png", "incoming/b+c d.png", "incoming/<&>.png"]


def test_key_fields_are_url_encoded_and_the_encoding_is_named() -> None:
    xml = (
        "<ListVersionsResult><Prefix>in+&amp;</Prefix><Version><Key>a/v 1+2 &lt;é&gt;.png</Key>"
        "</Version></ListVersionsResult>"
    )
    encoded = url_encode_keys(xml)
    assert "<Key>a/v%201%2B2%20%3C%C3%A9%3E.png</Key>" in encoded
    assert "<Prefix>in%2B%26</Prefix>" in encoded
    assert encoded.endswith("<EncodingType>url</EncodingType></ListVersionsResult>")
    assert urllib.parse.unquote_plus("a/v%201%2B2%20%3C%C3%A9%3E.png") == "a/v 1+2 <é>.png"


@pytest.mark.terraform
@pytest.mark.slow
def test_terraform_empties_a_versioned_bucket_whose_keys_hold_plus_signs(
    local_cloud: RunningCloud, tmp_path: Path
) -> None:
    # Without the patch moto answers raw keys to the provider's encoding-type=url listing; the
    # provider decodes "+" as a space, deletes keys that do not exist and never finishes.
    root = tmp_path / "root"
    shutil.copytree(FIXTURE, root)
    config = subprocess.run(
        ["scripts/tf.sh", "cli-config"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
        **local_cloud.env(),
        "TF_CLI_CONFIG_FILE": config,
        "TF_VAR_endpoint": local_cloud.endpoint_url,
    }

    def terraform(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["terraform", *args, "-input=false", "-no-color"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert terraform("init").returncode == 0
    applied = terraform("apply", "-auto-approve")
    assert applied.returncode == 0, applied.stderr[-2000:]
    s3 = local_cloud.client("s3")
    for key in KEYS:
        s3.put_object(Bucket="listing-plus", Key=key, Body=b"x")
        s3.put_object(Bucket="listing-plus", Key=key, Body=b"a second version")

    destroyed = terraform("destroy", "-auto-approve")

    assert destroyed.returncode == 0, destroyed.stderr[-2000:]
    assert "listing-plus" not in {b["Name"] for b in s3.list_buckets()["Buckets"]}
