"""The access key a local cloud issues when it starts, kept in a file only its user can read."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import string
from dataclasses import dataclass
from pathlib import Path

REGION = "us-east-1"
FILE_NAME = "credentials.json"
# AWS access key ids are 20 upper-case letters and digits; long-term user keys start "AKIA".
# Ours start "LCKA" (local cloud key) so that one pasted into a real AWS call is obviously not
# an AWS key, and AWS answers InvalidClientTokenId instead of trying it.
_KEY_ID_PREFIX = "LCKA"
_KEY_ID_ALPHABET = string.ascii_uppercase + "234567"
_SECRET_BYTES = 30  # 40 characters of URL-safe base64, the length of an AWS secret key


class CredentialsFileError(RuntimeError):
    """The credentials file is missing, unreadable or not ours; the message says what to do."""


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str

    @classmethod
    def issue(cls) -> Credentials:
        """A fresh random key pair, for one start of one server."""
        key_id = _KEY_ID_PREFIX + "".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(16))
        return cls(key_id, secrets.token_urlsafe(_SECRET_BYTES))

    def __repr__(self) -> str:  # never print the secret into a log or a test report
        return f"Credentials(access_key_id={self.access_key_id!r}, secret_access_key='***')"

    def env(self, endpoint_url: str, region: str = REGION) -> dict[str, str]:
        """What the AWS CLI, boto3 and Terraform read to talk to the local cloud with this key."""
        return {
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
        }


def path_in(state_dir: Path) -> Path:
    return state_dir / FILE_NAME


def write(path: Path, credentials: Credentials, **extra: object) -> None:
    """Write the file readable by this user only (0600), atomically, whatever the umask.

    The temporary file is created 0600 with O_EXCL, so the secret is never readable by others
    even for an instant, and a reader sees the old file or the new one, never half of one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "aws_access_key_id": credentials.access_key_id,
        "aws_secret_access_key": credentials.secret_access_key,
        **extra,
    }
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            os.fchmod(handle.fileno(), 0o600)  # O_CREAT's mode is masked by the umask
            json.dump(record, handle, indent=2)
            handle.write("\n")
        temporary.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def read(path: Path) -> Credentials:
    """The credentials in path; CredentialsFileError when there are none to use."""
    try:
        mode = path.stat().st_mode & 0o777
        record = json.loads(path.read_text())
        found = Credentials(record["aws_access_key_id"], record["aws_secret_access_key"])
    except FileNotFoundError:
        raise CredentialsFileError(
            f"no credentials at {path}: the local cloud is not running there. Start it with "
            "'make local-up' (python -m localcloud up)."
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CredentialsFileError(
            f"cannot read local cloud credentials from {path} ({error}); restart the local cloud "
            "('make local-down local-up') to issue new ones."
        ) from error
    if mode & 0o077:
        raise CredentialsFileError(
            f"{path} is readable by other users (mode {mode:o}); the local cloud writes it 0600. "
            "Restart the local cloud to issue new credentials."
        )
    return found


def remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
