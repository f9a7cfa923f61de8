"""The one error type the CLI prints as a line; importing it costs nothing (no copier)."""


class GoldpathError(Exception):
    """A problem the user can fix; the CLI prints it as one line."""
