"""Entry point of `python -m scripts.monitor`."""

import sys

from scripts.monitor.cli import main

sys.exit(main())
