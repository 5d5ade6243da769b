"""S3 beyond plain moto: ListObjectVersions honours encoding-type=url, as AWS does.

moto 5.2.5 ignores `encoding-type=url` on ListObjectVersions and answers the keys raw. A client
that asked for URL-encoded keys then decodes them, and a key holding "+" comes back with a
space: the Terraform provider, emptying a force_destroy bucket, deletes a key that does not
exist and lists the real one again, forever. AWS encodes Key, Prefix, KeyMarker, NextKeyMarker
and Delimiter when asked, and says so in <EncodingType>:
https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html
"""

from __future__ import annotations

import html
import re
import urllib.parse
from collections.abc import Callable
from typing import Any

from localcloud.plugin import LocalCloudContext, patch_attribute, require_moto_version

# The moto attributes this module patches; tests/localcloud checks they still fit.
PATCHED = {"moto.s3.responses.S3Response": ["list_object_versions"]}

_ENCODED = re.compile(r"<(Key|Prefix|KeyMarker|NextKeyMarker|Delimiter)>([^<]*)</\1>")


def url_encode_keys(xml: str) -> str:
    """The ListObjectVersions answer with its key fields URL-encoded and EncodingType set."""

    def encode(match: re.Match[str]) -> str:
        raw = html.unescape(match.group(2))
        return (
            f"<{match.group(1)}>{html.escape(urllib.parse.quote(raw, safe='/'))}</{match.group(1)}>"
        )

    encoded = _ENCODED.sub(encode, xml)
    if "<EncodingType>" not in encoded:
        encoded = encoded.replace(
            "</ListVersionsResult>", "<EncodingType>url</EncodingType></ListVersionsResult>", 1
        )
    return encoded


def install(ctx: LocalCloudContext) -> None:
    require_moto_version()
    from moto.s3.responses import S3Response

    original: Callable[..., Any] = S3Response.list_object_versions

    def list_object_versions(self: Any) -> Any:
        response = original(self)
        if self.querystring.get("encoding-type", [None])[0] != "url":
            return response
        status, headers, body = response
        text = body.decode() if isinstance(body, bytes) else str(body)
        headers = {k: v for k, v in dict(headers).items() if k.lower() != "content-length"}
        return status, headers, url_encode_keys(text).encode()

    patch_attribute(S3Response, "list_object_versions", list_object_versions)
    ctx.child_logger("s3").info("ListObjectVersions honours encoding-type=url")
