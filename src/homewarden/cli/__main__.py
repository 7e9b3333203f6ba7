"""Run the command line: ``python -m homewarden.cli``."""

from homewarden.cli import console_main

console_main()
