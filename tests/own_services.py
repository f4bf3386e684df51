"""A PostgreSQL and a Redis server of a test's own, on free ports in a temporary directory,
for the tests that kill them (the shared ones of scripts/services.sh serve other runs).

    with OwnPostgres() as pg:         # PostgreSQL 15 binaries of /usr/lib/postgresql/15/bin
        url = pg.new_database()
        pg.kill(); pg.start()         # kill -9 of every PostgreSQL process, then as systemd would
    with OwnRedis() as redis:
        redis.kill(); redis.start()

As root (CI), PostgreSQL runs as the `postgres` user: it refuses to run as root.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import List

from bot.stack import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _children(pid: int) -> List[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and \
                    int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def _alive(pid: int) -> bool:
    try:  # a zombie is dead, waiting only for its parent to read its exit code
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _wait_gone(pids: List[int], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while any(_alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            raise TimeoutError(f"processes {pids} still running")
        time.sleep(0.1)


class OwnPostgres:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="hotro-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.as_postgres: List[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self.as_postgres = ["runuser", "-u", "postgres", "--"]
        self._run(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-locale")

    def _run(self, *command) -> None:
        done = subprocess.run([*self.as_postgres, *map(str, command)], capture_output=True,
                              text=True, timeout=180)
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {done.stdout}{done.stderr}\n{self.log()}")

    def log(self) -> str:
        try:
            return (self.dir / "postgres.log").read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.dir / "postgres.log", "-w",
                  "-t", "120", "-o", f"-p {self.port} -k '' -c listen_addresses=127.0.0.1",
                  "start")

    def pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def kill(self) -> None:
        """kill -9 of the server and every one of its processes (a crash, the OOM killer)."""
        main = self.pid()
        pids = [main, *_children(main)]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _wait_gone(pids)
        # A dead postmaster left unreaped (a zombie: this machine's init may not reap) still
        # passes PostgreSQL's kill(pid, 0) check of its lock file; it is dead: its lock goes.
        (self.data / "postmaster.pid").unlink(missing_ok=True)

    def new_database(self) -> str:
        import sqlalchemy

        name = f"hotro_{uuid.uuid4().hex[:10]}"
        admin = sqlalchemy.create_engine(self.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
        admin.dispose()
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def __enter__(self) -> "OwnPostgres":
        self.start()
        return self

    def __exit__(self, *_) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self.kill()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class OwnRedis:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="hotro-redis-"))
        self.port = free_port()
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--dir", str(self.dir)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True,
                             text=True).stdout.strip() != "PONG":
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on port {self.port} did not start")
            time.sleep(0.1)

    def kill(self) -> None:
        self.process.kill()  # SIGKILL
        self.process.wait()

    def __enter__(self) -> "OwnRedis":
        self.start()
        return self

    def __exit__(self, *_) -> None:
        try:
            if self.process and self.process.poll() is None:
                self.kill()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
