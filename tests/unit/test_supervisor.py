"""`hotro run`'s supervision (bot/stack.py) and start-up report (bot/cli.py), on real
processes: a crashed one is started again with growing waits, the others are left alone."""
from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path

import pytest

import bot.cli
import bot.stack
from bot.cli import StartupReport
from bot.stack import Service, Stack


def service(name: str, code: str, tmp_path: Path) -> Service:
    return Service(name, [sys.executable, "-c", code], "http://127.0.0.1:9/unused",
                   tmp_path / f"{name}.log")


def test_a_crashing_process_is_started_again_with_backoff_and_the_others_keep_running(
        tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(bot.stack, "FIRST_BACKOFF", 0.2)
    stack = Stack(model=tmp_path / "model", var_dir=tmp_path)
    crashing = service("crashing", "import sys; sys.exit(3)", tmp_path)
    steady = service("steady", "import time; time.sleep(60)", tmp_path)
    stack.services = [crashing, steady]
    for each in stack.services:
        each.start({})
    steady_pid = steady.process.pid
    starts = []
    caplog.set_level(logging.WARNING, logger="hotro.stack")
    try:
        deadline = time.monotonic() + 30
        while len(starts) < 3:
            assert time.monotonic() < deadline, caplog.text
            before = crashing.process
            stack.supervise()
            if crashing.process is not before:
                starts.append(time.monotonic())
            time.sleep(0.02)
        assert steady.is_running() and steady.process.pid == steady_pid
    finally:
        stack.stop()
    # the waits double: 0.2 s, 0.4 s, 0.8 s
    for delay in ("0.2", "0.4", "0.8"):
        assert f"crashing exited with code 3; starting it again in {delay} s" in caplog.text
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert gaps[0] >= 0.4 and gaps[1] >= 0.8, gaps
    assert "crashing started again (restart 3 in a row)" in caplog.text
    assert "steady" not in caplog.text


def test_start_up_report_shows_the_faq_index_build_and_what_it_waits_for(tmp_path, capsys,
                                                                          monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(bot.cli.time, "monotonic", lambda: clock[0])
    log = tmp_path / "actions.log"
    actions = Service("action server", ["true"], "http://127.0.0.1:9/", log)
    report = StartupReport(threading.Event())
    log.write_text(
        "2026-11-30 20:34:01 INFO     rasa_sdk.endpoint  - Starting action endpoint server...\n"
        "2026-11-30 20:34:01 INFO     bot.kb.index  - embedding 93 entries: 744 texts\n"
        "2026-11-30 20:34:31 INFO     bot.kb.index  - embedding 93 entries: 10% (80/744 te",
        encoding="utf-8")
    clock[0] += 3
    report(actions)
    with log.open("a", encoding="utf-8") as more:
        more.write("xts)\n2026-11-30 20:36:01 INFO     bot.kb.search  - fitting the answer decision\n")
    clock[0] += 9
    report(actions)
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        "     3 s  FAQ index: embedding 93 entries: 744 texts",
        "    12 s  FAQ index: embedding 93 entries: 10% (80/744 texts)",
        "    12 s  FAQ index: fitting the answer decision",
        "    12 s  waiting for the action server...",
    ]


def test_ctrl_c_while_starting_stops_the_wait(tmp_path):
    stopping = threading.Event()
    report = StartupReport(stopping)
    stopping.set()
    with pytest.raises(InterruptedError):
        report(Service("rasa server", ["true"], "http://127.0.0.1:9/", tmp_path / "r.log"))


def test_the_rasa_servers_sqlite_files_are_in_write_ahead_log_mode(tmp_path):
    import sqlite3

    from bot.settings import PROJECT_DIR

    env = {"HOTRO_TRACKER_DB": str(tmp_path / "var" / "tracker.db"),
           "HOTRO_EVENTS_DB": str(tmp_path / "events.db")}
    sqlite3.connect(env["HOTRO_EVENTS_DB"]).execute("CREATE TABLE events (id INTEGER PRIMARY KEY)")
    bot.stack.write_ahead_logs(PROJECT_DIR / "endpoints.yml", env)
    for path in env.values():  # a new file, and one that already had a table
        assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone() == ("wal",)

    # The production stores are PostgreSQL: no SQLite file is made.
    production = {"HOTRO_TRACKER_DB": str(tmp_path / "unused" / "tracker.db")}
    bot.stack.write_ahead_logs(PROJECT_DIR / "deploy" / "endpoints.yml", production)
    assert not (tmp_path / "unused").exists()
