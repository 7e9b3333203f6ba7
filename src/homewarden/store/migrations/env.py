"""Run the store's migrations on the connection handed over by the caller."""

from alembic import context
from sqlalchemy.engine import Connection

# Every module of models is imported, so target_metadata describes the whole schema.
from homewarden.store import (  # noqa: F401
    account_models,
    face_models,
    integration_models,
    review_models,
    viewing_models,
)
from homewarden.store.models import Base


def run_migrations_online() -> None:
    """Migrate through the connection in ``config.attributes`` so the caller keeps its engine settings."""
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError(
            "homewarden migrations need a connection in config.attributes['connection'];"
            " use homewarden.store.database.migration_config()"
        )
    context.configure(connection=connection, target_metadata=Base.metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("homewarden migrations run online only, on a live database connection")
run_migrations_online()
