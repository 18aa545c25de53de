"""Exceptions shared by every layer.

:class:`UserInputError` is the one exception the command line turns into a single line on
stderr and exit status 2. Raise it (never ``assert``) for anything a user can get wrong: a
malformed file, an unknown parameter, a value out of range, a missing file. The message must
name the file (when there is one), the key and what is allowed.
"""

from __future__ import annotations


class UserInputError(ValueError):
    """Bad input from a user: file, key, value. The message is shown as is.

    Parameters
    ----------
    message
        What is wrong and what is allowed.
    source
        The file (or "--set", "command line") the bad input came from, prefixed to the message.
    """

    def __init__(self, message: str, *, source: str | None = None) -> None:
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)
