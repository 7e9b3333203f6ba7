"""What the event store raises when the database cannot do what was asked."""


class StoreError(Exception):
    """The event database is unreachable, misconfigured or refused a change."""
