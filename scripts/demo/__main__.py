"""Entry point of `python -m scripts.demo`."""

import sys

from scripts.demo.pipeline import main

sys.exit(main())
