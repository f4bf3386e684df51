"""One schema history (bot/migrations): an empty database upgraded to the newest revision
has exactly the models' tables, on SQLite and on PostgreSQL; a database made by the
create_all of hotro before migrations is adopted with its rows; processes starting at once
upgrade one database without tripping over each other; an unreachable database gets a
sentence, not a stack trace."""
from __future__ import annotations

import subprocess
import sys

import pytest
import sqlalchemy
from sqlalchemy import text

from bot import migrations
from bot.db import engine_for
from bot.handoff.store import TicketStore
from bot.schema import differences, models_metadata
from bot.settings import PROJECT_DIR

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def assert_matches_models(url: str) -> None:
    engine = engine_for(url)
    assert differences(engine) == []
    tables = set(sqlalchemy.inspect(engine).get_table_names())
    assert tables == set(models_metadata().tables) | {"alembic_version"}
    with engine.connect() as connection:
        assert migrations.current(connection) == migrations.head()


def test_an_empty_sqlite_database_gets_exactly_the_models_tables(tmp_path):
    assert_matches_models(f"sqlite:///{tmp_path / 'hotro.db'}")


def test_an_empty_postgresql_database_gets_exactly_the_models_tables(new_postgres_database):
    assert_matches_models(new_postgres_database())


def _old_hotro_database(url: str) -> None:
    """What hotro made before migrations: create_all's tables, with rows in them; this one
    from before tickets.order_id and before the helpdesk outbox existed (and, as every
    one, without the later revisions' unique index, and without the tables and column of
    revisions 0004 and 0005: hotro never made those with create_all)."""
    engine = sqlalchemy.create_engine(url)
    metadata = models_metadata()
    tickets = metadata.tables["tickets"]
    tickets._columns.remove(tickets.c.order_id)
    tickets.indexes = {i for i in tickets.indexes if i.name != "uq_tickets_one_unresolved"}
    metadata.remove(metadata.tables["webhook_outbox"])
    for name in ("channel_seen", "messenger_last_inbound", "zalo_tokens", "zalo_choices",
                 "resume_pending", "unanswered_vectors"):
        metadata.remove(metadata.tables[name])
    undelivered = metadata.tables["undelivered_messages"]
    undelivered._columns.remove(undelivered.c.error_code)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO tickets (conversation_id, channel, language, reason, status, "
            "created_at, transcript_json) VALUES ('khach-1', 'rest', 'vi', 'asked_human', "
            "'waiting', '2026-11-01 08:00:00', '[{\"text\": \"cho tôi gặp người\"}]')"))
        connection.execute(text(
            "INSERT INTO console_users (username, display_name, role, password_hash, active, "
            "created_at) VALUES ('lan', 'Lan', 'agent', 'x', true, '2026-11-01 08:00:00')"))
    engine.dispose()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_database_made_before_migrations_is_adopted_with_its_rows(
        database, tmp_path, request):
    url = (f"sqlite:///{tmp_path / 'old.db'}" if database == "sqlite"
           else request.getfixturevalue("new_postgres_database")())
    _old_hotro_database(url)

    tickets = TicketStore(url)  # what any hotro process does when it starts

    ticket = tickets.latest_ticket_for("khach-1")
    assert ticket.status == "waiting" and ticket.transcript == [{"text": "cho tôi gặp người"}]
    assert tickets.create("khach-1", "asked_human", [], order_id="DH123").order_id == "DH123"
    with tickets.engine.connect() as connection:
        assert connection.execute(text("SELECT username FROM console_users")).scalars().all() == ["lan"]
    assert_matches_models(url)


def _start_at_once(url: str, processes: int = 4) -> None:
    code = "import sys; from bot.db import engine_for; engine_for(sys.argv[1])"
    started = [subprocess.Popen([sys.executable, "-c", code, url], cwd=PROJECT_DIR,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
               for _ in range(processes)]
    for process in started:
        output, _ = process.communicate(timeout=120)
        assert process.returncode == 0, output


def test_processes_starting_at_once_upgrade_one_sqlite_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'hotro.db'}"
    _start_at_once(url)
    assert_matches_models(url)


def test_processes_starting_at_once_upgrade_one_postgresql_database(new_postgres_database):
    url = new_postgres_database()
    _start_at_once(url)
    assert_matches_models(url)


def test_an_unreachable_database_gets_a_sentence_not_a_traceback():
    done = subprocess.run(
        [str(PROJECT_DIR / ".venv" / "bin" / "hotro"), "db", "upgrade", "--url",
         "postgresql://hotro:secret@127.0.0.1:1/hotro"],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "cannot use hotro's database postgresql://hotro:***@127.0.0.1:1/hotro" in done.stderr
    assert "Traceback" not in done.stderr and "secret" not in done.stderr


@pytest.mark.parametrize("command", [["run", "--no-train"], ["console"]])
def test_hotro_run_and_the_console_say_when_the_database_is_unreachable(command):
    import os

    env = {**os.environ, "HOTRO_DATABASE_URL": "postgresql://hotro:secret@127.0.0.1:1/hotro"}
    done = subprocess.run([str(PROJECT_DIR / ".venv" / "bin" / "hotro"), *command],
                          cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "cannot use hotro's database postgresql://hotro:***@127.0.0.1:1/hotro" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_database_a_newer_hotro_upgraded_is_left_as_it_is(tmp_path, caplog):
    """An older replica restarting during a rolling deploy keeps working on it."""
    url = f"sqlite:///{tmp_path / 'hotro.db'}"
    engine = sqlalchemy.create_engine(url, future=True)
    migrations.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    migrations.upgrade(engine)
    assert "revision 9999, newer than this hotro's" in caplog.text
    with engine.connect() as connection:
        assert migrations.current(connection) == "9999"
    engine.dispose()
