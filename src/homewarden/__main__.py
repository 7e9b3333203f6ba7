"""Run the command line as `python -m homewarden`."""

import sys

from homewarden.cli import main

sys.exit(main())
