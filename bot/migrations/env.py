"""Alembic's environment for hotro: always run on a connection that bot/migrations gives
it (hotro never reads an alembic.ini)."""
from alembic import context

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run hotro's migrations with `hotro db upgrade`, not the alembic command")
target_metadata = config.attributes.get("target_metadata")


def _ours(name, type_, _parent_names) -> bool:
    # The database may also hold Rasa's tables (tracker store, event broker): autogenerate
    # compares only hotro's.
    return type_ != "table" or target_metadata is None or name in target_metadata.tables


context.configure(connection=connection, target_metadata=target_metadata,
                  include_name=_ours, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
