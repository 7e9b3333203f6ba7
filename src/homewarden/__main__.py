"""Run the command line as `python -m homewarden`."""

from homewarden.cli import console_main

console_main()
