"""`hotro db upgrade|check|revision`, and every hotro table as the models define them
today (the metadata autogenerate and the schema test compare the migrations with).

Top layer: it imports the models of every package that keeps a table.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from sqlalchemy import MetaData, create_engine
from sqlalchemy.exc import SQLAlchemyError


def models_metadata() -> MetaData:
    """One MetaData holding a copy of every hotro table."""
    from bot.console.auth import AuthBase
    from bot.console.canned import CannedBase
    from bot.channels.state import ChannelBase
    from bot.console.notes import NotesBase
    from bot.console.resumes import ResumesBase
    from bot.console.unanswered_marks import MarksBase
    from bot.console.unanswered_vectors import VectorsBase
    from bot.handoff import helpdesk, profiles  # noqa: F401  (their tables join store's Base)
    from bot.handoff.store import Base as HandoffBase
    from bot.kb.store import Base as KbBase
    from bot.shop import ShopBase

    combined = MetaData()
    for base in (HandoffBase, KbBase, ShopBase, AuthBase, CannedBase, NotesBase, MarksBase,
                 VectorsBase, ResumesBase, ChannelBase):
        for table in base.metadata.tables.values():
            table.to_metadata(combined)
    return combined


def differences(engine) -> list:
    """What the database lacks or has beyond the models (alembic's compare_metadata)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    metadata = models_metadata()
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "include_name": lambda name, type_, _: type_ != "table" or name in metadata.tables})
        return compare_metadata(context, metadata)


def _target(args: argparse.Namespace) -> str:
    from bot.db import database_url

    return args.url or database_url()


def cmd_upgrade(args: argparse.Namespace) -> int:
    from bot import migrations
    from bot.db import describe, engine_for

    url = _target(args)
    try:
        engine_for(url)  # opening it upgrades it
    except SQLAlchemyError as error:
        print(f"hotro db upgrade: {describe(url, error)}", file=sys.stderr)
        return 1
    print(f"{describe(url)}: at revision {migrations.head()}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from bot.db import describe, engine_for

    url = _target(args)
    try:
        found = differences(engine_for(url))
    except SQLAlchemyError as error:
        print(f"hotro db check: {describe(url, error)}", file=sys.stderr)
        return 1
    for difference in found:
        print(difference)
    print(f"{describe(url)}: {'matches the models' if not found else 'differs from the models'}")
    return 1 if found else 0


def cmd_revision(args: argparse.Namespace) -> int:
    """A new revision file with what the models have beyond the newest revision, found by
    comparing the models with a scratch SQLite database upgraded to it. Review it: rename
    detection, server defaults and data moves are the author's job."""
    from alembic import command
    from alembic.script import ScriptDirectory

    from bot import migrations

    # Revisions are numbered 0001, 0002...: the history reads in order in versions/.
    number = len(list(ScriptDirectory.from_config(migrations.alembic_config()).walk_revisions()))

    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{Path(scratch) / 'head.db'}", future=True)
        migrations.upgrade(engine)
        with engine.connect() as connection:
            script = command.revision(
                migrations.alembic_config(connection, models_metadata()),
                message=args.message, autogenerate=True, rev_id=f"{number + 1:04d}")
        engine.dispose()
    print(f"wrote {script.path}")
    return 0


def add_db_commands(commands) -> None:
    db = commands.add_parser("db", help="hotro's database schema (Alembic migrations)")
    actions = db.add_subparsers(dest="db_command", required=True)
    for name, func, text in (
            ("upgrade", cmd_upgrade, "bring the database to the newest revision (every "
                                     "process also does it when it opens the database)"),
            ("check", cmd_check, "exit 1 and list the differences if the database does "
                                 "not match the models")):
        action = actions.add_parser(name, help=text)
        action.add_argument("--url", help="database URL (default: $HOTRO_DATABASE_URL, else "
                                                  "hotro.yml's handoff.database_url)")
        action.set_defaults(func=func)
    revision = actions.add_parser("revision", help="write a new migration for model changes")
    revision.add_argument("-m", "--message", required=True, help="what the revision changes")
    revision.set_defaults(func=cmd_revision)
