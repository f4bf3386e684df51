"""Pending bot resumes live in the database: every console replica sees one, and of many
agents retrying it at once (on any replica) exactly one gets to resume the bot."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.console.resumes import PendingResumes
from bot.db import engine_for


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_pending_resume_is_claimed_once_across_replicas(kind, tmp_path, request):
    url = (f"sqlite:///{tmp_path / 'hotro.db'}" if kind == "sqlite"
           else request.getfixturevalue("new_postgres_database")())
    one, two = PendingResumes(engine_for(url)), PendingResumes(engine_for(url))
    one.add(7)
    one.add(7)  # resolving twice keeps one pending resume
    assert two.has(7) and not two.has(8)
    with ThreadPoolExecutor(8) as pool:
        claims = list(pool.map(lambda i: (one, two)[i % 2].claim(7), range(8)))
    assert claims.count(True) == 1
    assert not one.has(7) and not two.has(7)
