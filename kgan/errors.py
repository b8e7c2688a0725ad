"""The one exception type for mistakes a user can fix; the CLI prints it as a single line."""


class KganError(ValueError):
    """A problem with the user's input, with a message that names the problem and the fix."""
