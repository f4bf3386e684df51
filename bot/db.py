"""The SQL database that holds what every process and replica must share (tickets,
console users, the shop's profile, the channels' state): its URL from hotro.yml and one SQLAlchemy engine per
URL per process. SQLite by default, PostgreSQL by URL (`handoff.database_url`).
Opening a database brings its schema to the newest migration (bot/migrations) first.

Low layer: imports only bot.settings and bot.migrations, so the shop profile (bot/shop.py)
and the ticket store (bot/handoff/store.py) share it.
"""
from __future__ import annotations

import os
import threading
from datetime import datetime, timezone
from typing import Any, Dict, Optional

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url

DEFAULT_URL = "sqlite:///var/hotro.db"


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)  # stored as naive UTC


def database_url(settings: Optional[Dict[str, Any]] = None) -> str:
    """$HOTRO_DATABASE_URL (so a production password stays out of files), else
    handoff.database_url (default hotro.yml's); a relative SQLite path made relative to
    the project and its directory created."""
    from bot.settings import load_settings, project_path

    url = os.environ.get("HOTRO_DATABASE_URL")
    if not url:
        if settings is None:
            settings = load_settings()
        url = (settings.get("handoff") or {}).get("database_url") or DEFAULT_URL
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        path = project_path(url[len("sqlite:///"):])
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{path}"
    return url


def _make_engine(url: str) -> Engine:
    engine = create_engine(url, future=True, pool_pre_ping=True)
    if url.startswith("sqlite"):
        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record) -> None:
            # WAL: the console reads while the action server writes; FULL: survive kill -9.
            # busy_timeout first: switching a new file to WAL waits for another process's
            # lock (several processes open a new database at once) instead of failing.
            cursor = connection.cursor()
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.close()
    return engine


_engines: Dict[str, Engine] = {}
_engines_lock = threading.Lock()


def engine_for(url: Optional[str] = None) -> Engine:
    """The process's engine for `url` (default: hotro.yml's database), made once, its
    schema upgraded to the newest migration. An unreachable database raises SQLAlchemy's
    error (OperationalError); `describe` words it for a person."""
    from bot import migrations

    url = url or database_url()
    with _engines_lock:
        if url not in _engines:
            engine = _make_engine(url)
            try:
                migrations.upgrade(engine)
            except Exception:
                engine.dispose()
                raise
            _engines[url] = engine
        return _engines[url]


def describe(url: str, error: Optional[BaseException] = None) -> str:
    """The database (password hidden), and why it could not be used if `error` is given."""
    where = f"hotro's database {make_url(url).render_as_string(hide_password=True)}"
    if error is None:
        return where
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    return f"cannot use {where}: {reason}"
