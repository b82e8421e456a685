"""Why the store cannot take a write (or serve a read): sentences for the person, with the HTTP status to answer.

The store raises these instead of a database driver's own errors, whichever database it uses.
"""

from webapp.sentences import Sentence


class StoreRefused(Sentence):
    """The store cannot take this write (or read); the message is a sentence for the person."""

    status = 503


class StoreUnavailable(StoreRefused):
    """The database cannot be written or read: a read-only disk or file, a damaged file, a long lock,
    a database server that cannot be reached."""


class StoreFull(StoreRefused):
    """The quota is reached, or the disk is full."""

    status = 507


class AlreadyKept(StoreRefused):
    """The same drawing (the same 28x28 input) is kept already: each drawing is kept once."""

    status = 409


class TooManyFromOneDevice(StoreRefused):
    """One device sent as many drawings of one label as it may in the last hour."""

    status = 429
    retry_after = 3600


class SchemaTooNew(StoreUnavailable):
    """The database was written by a newer Digit Draw; opening it here could damage it."""
