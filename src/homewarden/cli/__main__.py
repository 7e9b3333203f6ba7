"""Run the command line: ``python -m homewarden.cli``."""

import sys

from homewarden.cli import main

sys.exit(main())
