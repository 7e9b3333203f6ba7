"""The error every command turns into one line on stderr and exit code 2."""


class UserError(Exception):
    """A problem the user can fix: a bad path, an unreachable camera, a database that will not open."""
