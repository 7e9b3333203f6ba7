"""Where passphrases and recovery keys come from: the terminal, the environment, or standard input for scripts."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable, Mapping
from typing import TextIO

from homewarden.errors import UserError

PASSPHRASE_ENV = "HOMEWARDEN_PASSPHRASE"
NEW_PASSPHRASE_ENV = "HOMEWARDEN_NEW_PASSPHRASE"
RECOVERY_KEY_ENV = "HOMEWARDEN_RECOVERY_KEY"


class SecretSource:
    """Read secrets from an environment variable, else from stdin lines (``--passphrase-stdin``), else the terminal.

    With ``--passphrase-stdin`` each secret a command asks for is one line, in the order the command asks: for
    ``change-passphrase`` the old then the new passphrase, for ``recover`` the recovery key then the new passphrase.
    """

    def __init__(
        self,
        *,
        from_stdin: bool = False,
        stdin: TextIO | None = None,
        environ: Mapping[str, str] | None = None,
        prompt: Callable[[str], str] = getpass.getpass,
    ) -> None:
        """Read from ``stdin`` lines when ``from_stdin``; ``prompt`` asks on the terminal without echoing."""
        self.from_stdin = from_stdin
        self._stdin = stdin or sys.stdin
        self._environ = os.environ if environ is None else environ
        self._prompt = prompt

    def passphrase(self, what: str = "Passphrase") -> str:
        """Return the current passphrase."""
        return self._read(PASSPHRASE_ENV, f"{what}: ")

    def new_passphrase(self, variable: str = NEW_PASSPHRASE_ENV) -> str:
        """Return a new passphrase (from ``variable`` when set), typed twice when it comes from the terminal."""
        if variable in self._environ or self.from_stdin:
            return self._read(variable, "")
        first = self._read(variable, "New passphrase: ")
        if self._read(variable, "Type it again: ") != first:
            raise UserError("the two passphrases differ; nothing was changed")
        return first

    def recovery_key(self) -> str:
        """Return the recovery key."""
        return self._read(RECOVERY_KEY_ENV, "Recovery key: ")

    def _read(self, variable: str, prompt: str) -> str:
        if variable in self._environ:
            return self._environ[variable]
        if self.from_stdin:
            line = self._stdin.readline()
            if not line:
                raise UserError("standard input ended before every secret was read")
            return line.rstrip("\r\n")
        if not self._stdin.isatty():
            # getpass would fall back to echoing the secret from a pipe; scripts say so explicitly instead.
            raise UserError(f"no terminal to ask on: set {variable} or pass --passphrase-stdin")
        return self._prompt(prompt)
