"""Where finished events, their clips and snapshots are kept."""

from homewarden.store.database import EventStore
from homewarden.store.errors import StoreError

__all__ = ["EventStore", "StoreError"]
