"""hotro on the production stores of deploy/endpoints.yml, with one replica or more: Rasa's
tracker store and hotro's tables on PostgreSQL, the event broker in a PostgreSQL database of
its own, Rasa's lock store on Redis. Used by the integration tests
(test_production_stores.py, test_replicas.py) and bench/load.py."""
from __future__ import annotations

import json
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List

import sqlalchemy
import yaml
from sqlalchemy.engine import make_url

from bot.settings import PROJECT_DIR
from bot.stack import Stack, free_port


class PostgresDatabases:
    """Fresh, empty databases on a PostgreSQL server (its superuser or a role that may
    create databases), each with a name of its own, all dropped by `drop_all()`."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.admin = sqlalchemy.create_engine(server_url, isolation_level="AUTOCOMMIT")
        self.made: List[str] = []

    def new(self) -> str:
        name = f"hotro_test_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as connection:
            connection.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
        self.made.append(name)
        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as connection:
            for name in self.made:
                connection.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        self.admin.dispose()


def reuse_faq_index(source: Path, target: Path) -> None:
    """A copy of an FAQ index already built (the session's other stack's, `hotro kb build`'s),
    if there is one: this stack's store is seeded from the same corpus, so it finds the index
    up to date (or reuses its vectors) instead of embedding every entry again, minutes on this
    machine. Only what the manifest names is copied (data directories are immutable); no
    copy, a full build."""
    try:
        manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
        shutil.copytree(source / manifest["data_dir"], target / manifest["data_dir"])
        shutil.copy(source / "manifest.json", target / "manifest.json")
    except (OSError, ValueError, KeyError):
        shutil.rmtree(target, ignore_errors=True)


def production_stacks(model: Path, settings: Dict[str, Any], database: str, events_database: str,
                      redis_url: str, var_dir: Path, replicas: int = 1) -> List[Stack]:
    """`replicas` stacks (not started) sharing `database` (hotro's tables and Rasa's tracker),
    `events_database` (the event broker) and Redis (the lock store), each Rasa server with its
    own action server; only the first runs the console. `settings` is hotro.yml's content;
    its FAQ index, or else the project's (`hotro kb build`), is copied (reuse_faq_index), so
    the first start loads rather than builds."""
    settings = {**settings, "handoff": {**settings["handoff"], "database_url": database}}
    index_dir = var_dir / "kb_index"
    for built in (Path(settings["kb"]["index_dir"]), PROJECT_DIR / "var" / "kb_index"):
        reuse_faq_index(PROJECT_DIR / built, index_dir)
        if index_dir.exists():
            break
    settings["kb"] = {**settings["kb"], "index_dir": str(index_dir)}
    settings_path = var_dir / "hotro.yml"
    settings_path.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    redis = make_url(redis_url)
    env = {"HOTRO_CONFIG": str(settings_path), "HOTRO_TRACKER_URL": database,
           "HOTRO_EVENTS_DB": events_database, "HOTRO_REDIS_HOST": redis.host,
           "HOTRO_REDIS_PORT": str(redis.port), "HOTRO_REDIS_DB": redis.database or "0"}
    return [Stack(model=model, var_dir=var_dir if n == 0 else var_dir / f"replica-{n + 1}",
                  rasa_port=free_port(), action_port=free_port(), console_port=free_port(),
                  endpoints=PROJECT_DIR / "deploy" / "endpoints.yml", extra_env=dict(env),
                  console=n == 0)
            for n in range(replicas)]


@contextmanager
def running(stacks: List[Stack]) -> Iterator[List[Stack]]:
    """Starts the stacks one after the other (the first loads the FAQ index, or builds it,
    before the others look for it) and stops every one afterwards, also after a failed start."""
    try:
        for stack in stacks:
            stack.start()
        yield stacks
    finally:
        for stack in stacks:
            stack.stop()
