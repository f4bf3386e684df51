"""hotro's schema history: every table of hotro's database (tickets, console users, FAQ
store, shop profile...) is made and changed only by the Alembic revisions in versions/.

`upgrade(engine)` brings a database to the newest revision. bot/db.py runs it when a
process first opens a database, and `hotro db upgrade` runs it by hand. It is idempotent
and safe when several processes start at once: the upgrade holds a PostgreSQL advisory
lock, or on SQLite an exclusive lock on a file beside the database.

The revisions never import hotro's models (a revision must keep meaning what it meant when
it was written); only autogenerate and the schema test compare them with the models.
"""
from __future__ import annotations

import fcntl
import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
# Any constant shared by every hotro process: the key of the PostgreSQL advisory lock.
_ADVISORY_LOCK = 0x686F74726F  # "hotro"
# Alembic says which dialect it found each time a context is made, i.e. at every start of
# every process; keep only what it does ("Running upgrade 0001 -> 0002").
logging.getLogger("alembic.runtime.migration").addFilter(
    lambda record: not record.getMessage().startswith(("Context impl", "Will assume")))


def alembic_config(connection: Optional[Connection] = None, target_metadata=None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["connection"] = connection
    config.attributes["target_metadata"] = target_metadata
    return config


_revisions: Optional[list] = None  # this code's revision ids, oldest first


def revisions() -> list:
    """The revision ids of the scripts, oldest first (read once per process)."""
    global _revisions
    if _revisions is None:
        from alembic.script import ScriptDirectory

        script = ScriptDirectory.from_config(alembic_config())
        script.get_current_head()  # fails loudly on a history with two heads
        _revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    return _revisions


def head() -> str:
    return revisions()[-1]


def current(connection: Connection) -> Optional[str]:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def _file_lock(engine: Engine) -> Iterator[None]:
    """On a SQLite file: an exclusive lock on <database>.migrate-lock, held by one process
    at a time. Elsewhere (PostgreSQL locks in the transaction, in-memory SQLite has one
    user) nothing."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Brings the database to `revision`. A database made by create_all before there were
    migrations is adopted: the first revision creates only what it lacks."""
    from alembic import command

    with engine.connect() as connection:
        found = current(connection)
    if revision == "head" and found == head():
        return  # the usual start: nothing to do, no lock taken
    if found is not None and found not in revisions():
        # A newer hotro already upgraded it (a rolling deploy, an older replica restarting):
        # migrations only add, so this code keeps working; never step it back.
        log.warning("hotro's database is at revision %s, newer than this hotro's %s: "
                    "left as it is", found, head())
        return
    with _file_lock(engine), engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Held until this transaction commits: a second process waits, then finds the
            # head.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": _ADVISORY_LOCK})
        command.upgrade(alembic_config(connection), revision)
