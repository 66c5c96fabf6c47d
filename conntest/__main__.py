"""``python -m conntest``."""

import sys

from conntest.cli import main

sys.exit(main())
