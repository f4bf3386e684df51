"""deploy/: Docker does not run on the development machine, so the compose file is checked
here as far as it can be without it: it parses, holds the whole stack, every file it
mounts or builds from exists, nginx balances every replica, and every variable Rasa's
production endpoints need is set for the Rasa servers."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.settings import PROJECT_DIR

DEPLOY = PROJECT_DIR / "deploy"


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))


def test_the_compose_file_holds_the_whole_stack(compose):
    services = compose["services"]
    assert {"rasa-1", "rasa-2", "actions-1", "actions-2", "console", "postgres", "redis",
            "proxy", "migrate"} <= set(services)
    assert services["rasa-1"]["command"][:2] == ["rasa", "run"]
    assert services["actions-2"]["command"][:3] == ["rasa", "run", "actions"]
    assert services["migrate"]["command"] == ["hotro", "db", "upgrade"]


def test_every_mounted_or_built_file_exists(compose):
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):  # a bind mount, not a named volume
                assert (DEPLOY / source).resolve().is_file(), f"{name} mounts missing {source}"
        if "build" in service:
            context = (DEPLOY / service["build"]["context"]).resolve()
            assert (context / service["build"]["dockerfile"]).is_file()
    for line in (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (PROJECT_DIR / source).exists(), f"the Dockerfile copies missing {source}"


def test_nginx_balances_every_replica(compose):
    nginx = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    upstreams = dict(re.findall(r"upstream (\w+) \{([^}]*)\}", nginx))
    servers = {name: set(re.findall(r"server ([\w-]+):\d+;", body))
               for name, body in upstreams.items()}
    assert servers == {"rasa": {"rasa-1", "rasa-2"}, "actions": {"actions-1", "actions-2"},
                       "console": {"console"}}
    assert all(host in compose["services"] for hosts in servers.values() for host in hosts)


def test_the_rasa_servers_have_every_variable_the_production_endpoints_need(compose):
    needed = set(re.findall(r"\$\{(\w+)\}", (DEPLOY / "endpoints.yml").read_text("utf-8")))
    assert {"HOTRO_TRACKER_URL", "HOTRO_REDIS_HOST"} <= needed
    for name in ("rasa-1", "rasa-2"):
        assert needed <= set(compose["services"][name]["environment"]), name
