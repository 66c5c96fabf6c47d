"""``python -m conntest``."""

import sys

from conntest.console import console

sys.exit(console())
