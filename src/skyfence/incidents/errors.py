"""What can go wrong with the incident store, each as one line."""

from skyfence.errors import SkyfenceError


class StoreError(SkyfenceError):
    """The store cannot be used as asked: a bad URL, no store there, an unknown incident."""


class StoreUnavailable(StoreError):
    """The database cannot be reached now (PostgreSQL restarted, the connection dropped, SQLite locked).
    Nothing of the failed call was committed; the same call may be retried later (``apply`` is
    idempotent, so retrying one whose commit went through before the connection dropped is safe)."""


class UnknownIncident(StoreError):
    """No incident has this id."""


class NotAllowed(StoreError):
    """The change makes no sense for the incident as it is (resolving a resolved incident)."""
