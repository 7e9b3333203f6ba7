"""The review tests run on SQLite and on PostgreSQL, with the store tests' fixtures."""

from __future__ import annotations

from store.conftest import database_url, postgres_url

__all__ = ["database_url", "postgres_url"]
