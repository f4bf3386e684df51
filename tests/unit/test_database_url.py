"""Where hotro's database is: $HOTRO_DATABASE_URL wins over hotro.yml, so a production
password stays out of files (deploy/docker-compose.yml sets it)."""
from bot.db import database_url


def test_the_environment_names_the_database_before_hotro_yml(monkeypatch):
    settings = {"handoff": {"database_url": "sqlite:///var/hotro.db"}}
    monkeypatch.delenv("HOTRO_DATABASE_URL", raising=False)
    assert database_url(settings).endswith("/var/hotro.db")
    monkeypatch.setenv("HOTRO_DATABASE_URL", "postgresql://hotro:secret@postgres/hotro")
    assert database_url(settings) == "postgresql://hotro:secret@postgres/hotro"
