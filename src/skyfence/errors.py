"""The errors a user can cause, each with one clear line of text."""


class SkyfenceError(Exception):
    """A problem with the user's input (file, agreement, option): shown as one line, exit status 2."""


class AgreementError(SkyfenceError):
    """An agreement that cannot be used; the message names the field."""

    def __init__(self, source: str, field: str, message: str) -> None:
        self.source, self.field, self.message = source, field, message
        where = f"{source}: {field}" if field else source
        super().__init__(f"{where}: {message}")


class InputError(SkyfenceError):
    """A track or truth file that cannot be read."""
