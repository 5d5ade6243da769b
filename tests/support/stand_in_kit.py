"""A local cloud whose SageMaker endpoints serve stand-in model code (the SageMaker tests' cloud).

The endpoints of localcloud load the model's inference module from the path in
`sagemaker_endpoints.INFERENCE_MODULE_ENV`; a test gives the module's source and gets a running
server that serves it, always stopped after.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from localcloud import sagemaker_endpoints
from localcloud.testing import RunningCloud, running_local_cloud


@contextmanager
def cloud_serving(inference_source: str, scratch: Path) -> Iterator[RunningCloud]:
    """A running local cloud whose endpoints load `inference_source` (written under scratch)."""
    script = scratch / "stand_in_inference.py"
    script.write_text(inference_source, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(sagemaker_endpoints.INFERENCE_MODULE_ENV, str(script))
        with running_local_cloud() as running:
            yield running
