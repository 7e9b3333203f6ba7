"""Run the cloud's migrations on the connection handed over by the caller."""

from alembic import context
from sqlalchemy.engine import Connection

from homewarden.cloud.database import VERSION_TABLE
from homewarden.cloud.models import CloudBase


def run_migrations_online() -> None:
    """Migrate through the connection in ``config.attributes`` so the caller keeps its engine settings."""
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError(
            "cloud migrations need a connection in config.attributes['connection'];"
            " use homewarden.cloud.database.migration_config()"
        )
    context.configure(
        connection=connection,
        target_metadata=CloudBase.metadata,
        compare_type=True,
        version_table=VERSION_TABLE,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("cloud migrations run online only, on a live database connection")
run_migrations_online()
