"""The console as its own process (`python -m bot.console`) and the user commands: users,
sessions and tickets live in the database, so they survive a restart."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Iterator

import pytest
import requests
import yaml

from bot.handoff.store import ticket_store
from bot.settings import PROJECT_DIR
from bot.stack import free_port
from tests.console.conftest import PASSWORD, console_settings
from tests.console.rasa_standin import RasaStandin


@pytest.fixture
def env(tmp_path: Path, rasa: RasaStandin) -> Dict[str, str]:
    config = tmp_path / "hotro.yml"
    config.write_text(yaml.safe_dump(console_settings(tmp_path / "hotro.db", rasa.url)),
                      encoding="utf-8")
    env = {k: v for k, v in os.environ.items()
           if k not in ("HOTRO_RASA_URL", "HOTRO_NEW_PASSWORD")}
    env["HOTRO_CONFIG"] = str(config)
    return env


def hotro(env: Dict[str, str], *args: str, password: str | None = PASSWORD,
          ) -> subprocess.CompletedProcess:
    """The console's `hotro ...` commands (bot/cli.py hands them to bot.console.commands)."""
    run_env = dict(env)
    if password is not None:
        run_env["HOTRO_NEW_PASSWORD"] = password
    return subprocess.run([sys.executable, "-m", "bot.console.commands", *args], cwd=PROJECT_DIR,
                          env=run_env, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


class ConsoleProcess:
    def __init__(self, env: Dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> "ConsoleProcess":
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.console", "--host", "127.0.0.1",
                 "--port", str(self.port)], cwd=PROJECT_DIR, env=self.env, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"console did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.2)

    def stop(self) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


@pytest.fixture
def processes(env, tmp_path) -> Iterator[list]:
    started: list = []
    yield started
    for process in started:
        process.stop()


def test_user_commands(tmp_path, monkeypatch, capsys):
    """In-process (the restart test below runs `user add` as a real process)."""
    import argparse
    import io

    from bot.console import commands
    from bot.console.auth import UserStore

    users = UserStore(ticket_store(f"sqlite:///{tmp_path / 'users.db'}").engine)
    monkeypatch.setattr(commands, "_user_store", lambda: users)
    parser = argparse.ArgumentParser(prog="hotro")
    commands.add_console_commands(parser.add_subparsers(dest="command", required=True))

    def run(*argv: str, password: str | None = PASSWORD) -> tuple:
        if password is None:
            monkeypatch.delenv("HOTRO_NEW_PASSWORD", raising=False)
        else:
            monkeypatch.setenv("HOTRO_NEW_PASSWORD", password)
        try:
            args = parser.parse_args(argv)
            code = args.func(args)
        except SystemExit as exit_:
            code = exit_.code
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, err = run("user", "add", "Chi", "--role", "admin", "--display-name", "Chị Chi")
    assert code == 0 and "added chi (admin)" in out, err
    assert users.get_user("chi").display_name == "Chị Chi"
    code, _, err = run("user", "add", "chi", "--role", "agent")
    assert code == 1 and "User already exists" in err
    code, _, err = run("user", "add", "nam", "--role", "agent", password="ngan")
    assert code == 1 and "at least 8 characters" in err
    monkeypatch.setattr("sys.stdin", io.StringIO())  # no terminal to type it in
    code, _, err = run("user", "add", "nam", "--role", "agent", password=None)
    assert code == 2 and "HOTRO_NEW_PASSWORD" in err
    code, _, err = run("user", "add", "nam", "--role", "boss")
    assert code == 2 and "invalid choice" in err
    code, out, _ = run("user", "list")
    assert code == 0 and out.startswith("chi\tadmin\tChị Chi")
    assert users.authenticate("chi", PASSWORD) is not None
    code, out, _ = run("user", "passwd", "chi", password="mat-khau-moi-2")
    assert code == 0 and users.authenticate("chi", "mat-khau-moi-2") is not None
    assert users.authenticate("chi", PASSWORD) is None
    assert run("user", "passwd", "ai-do")[0] == 1
    assert users.get_user("nam") is None


def test_users_sessions_tickets_and_pending_resumes_survive_a_restart(env, processes, tmp_path,
                                                                       rasa):
    assert hotro(env, "user", "add", "lan", "--role", "agent").returncode == 0
    first = ConsoleProcess(env, tmp_path / "console.log").start()
    processes.append(first)
    client = requests.Session()
    client.headers["Origin"] = first.url
    assert client.post(f"{first.url}/login", data={"username": "lan", "password": PASSWORD},
                       allow_redirects=False, timeout=30).status_code == 303
    token = client.cookies["hotro_session"]
    store = ticket_store(f"sqlite:///{tmp_path / 'hotro.db'}")
    ticket_id = store.create("cust-r", "request_human", []).id
    assert client.post(f"{first.url}/api/tickets/{ticket_id}/assign", json={},
                       timeout=10).status_code == 200
    # A ticket resolved while Rasa fails: the bot of that customer is still paused.
    resolved_id = store.create("cust-p", "request_human", []).id
    rasa.fail_posts = 1
    assert client.post(f"{first.url}/api/tickets/{resolved_id}/resolve", json={},
                       timeout=10).status_code == 502
    assert first.stop() == 0  # SIGTERM: a clean shutdown

    second = ConsoleProcess(env, tmp_path / "console.log")
    second.port, second.url = first.port, first.url  # same address, so the cookie applies
    processes.append(second.start())
    again = requests.Session()
    again.cookies.set("hotro_session", token)
    assert again.get(f"{second.url}/api/me", timeout=10).json()["username"] == "lan"
    tickets = again.get(f"{second.url}/api/tickets", timeout=10).json()["tickets"]
    assert [(t["id"], t["assigned_to"]) for t in tickets] == [(ticket_id, "lan")]
    # The new process still knows the resume is pending: resolving again retries it, once.
    resume = again.post(f"{second.url}/api/tickets/{resolved_id}/resolve", json={}, timeout=10,
                        headers={"Origin": second.url})
    assert resume.status_code == 200, resume.text
    assert [(c.path.rsplit("/", 1)[-1], c.status) for c in rasa.recorded(
        lambda r: r.method == "POST" and "cust-p" in r.path)] == [
        ("events", 500), ("events", 200), ("execute", 200), ("events", 200)]
    assert again.post(f"{second.url}/api/tickets/{resolved_id}/resolve", json={}, timeout=10,
                      headers={"Origin": second.url}).status_code == 409
    fresh = requests.Session()
    fresh.headers["Origin"] = second.url
    assert fresh.post(f"{second.url}/login", data={"username": "lan", "password": PASSWORD},
                      allow_redirects=False, timeout=30).status_code == 303
    assert "hotro console on" in (tmp_path / "console.log").read_text()
