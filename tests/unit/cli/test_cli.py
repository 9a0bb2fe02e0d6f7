"""The `shopwindow` command through typer's CliRunner (in-process, temporary SQLite)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from shopwindow.accounts import actions as accounts
from shopwindow.accounts.models import Account
from shopwindow.cli import app
from shopwindow.config import get_settings
from shopwindow.db.engine import driver_url

runner = CliRunner()
ENV_KEYS = ("DATABASE_URL", "DATA_DIR", "BASE_URL", "JOBS_MODE", "REDIS_URL",
            "PASSWORD_TIME_COST", "PASSWORD_MEMORY_COST", "DEMO_CREATORS", "DEMO_FANS")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A clean SHOPWINDOW_* environment on a temporary SQLite file; restored afterwards."""
    for k in ENV_KEYS:  # recorded by monkeypatch, so what the CLI sets is undone too
        monkeypatch.delenv(f"SHOPWINDOW_{k}", raising=False)
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("SHOPWINDOW_DATABASE_URL", url)
    monkeypatch.setenv("SHOPWINDOW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SHOPWINDOW_JOBS_MODE", "immediate")
    monkeypatch.setenv("SHOPWINDOW_PASSWORD_TIME_COST", "1")
    monkeypatch.setenv("SHOPWINDOW_PASSWORD_MEMORY_COST", "1024")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def _engine(url: str):
    return create_engine(driver_url(url))


def test_help_lists_the_commands():
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    for cmd in ("serve", "demo", "worker", "db", "create-operator"):
        assert cmd in res.output
    res = runner.invoke(app, ["serve", "--help"])
    assert res.exit_code == 0 and "--host" in res.output and "--workers" in res.output
    assert runner.invoke(app, ["db", "--help"]).exit_code == 0


def test_db_upgrade_creates_tables_and_downgrade_removes_them(env):
    res = runner.invoke(app, ["db", "upgrade"])
    assert res.exit_code == 0, res.output
    eng = _engine(env)
    tables = set(inspect(eng).get_table_names())
    assert {"account", "social_post", "social_follow", "outbox_event",
            "alembic_version"} <= tables
    res = runner.invoke(app, ["db", "downgrade", "base"])
    assert res.exit_code == 0, res.output
    assert "account" not in set(inspect(eng).get_table_names())
    eng.dispose()


def test_create_operator_with_option_and_prompt(env):
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    res = runner.invoke(app, ["create-operator", "boss", "boss@example.com",
                              "--password", "correct horse battery"])
    assert res.exit_code == 0, res.output
    assert "operator created" in res.output
    res = runner.invoke(app, ["create-operator", "mod_two", "mod@example.com"],
                        input="another long password\nanother long password\n")
    assert res.exit_code == 0, res.output
    eng = _engine(env)
    with Session(eng) as s:
        rows = {a.username: a.role for a in s.scalars(select(Account))}
        assert rows == {"boss": "operator", "mod_two": "operator"}
        assert accounts.authenticate(s, "mod_two", "another long password").role == "operator"
    eng.dispose()


def test_create_operator_reports_problems(env):
    res = runner.invoke(app, ["create-operator", "boss", "boss@example.com",
                              "--password", "correct horse battery"])
    assert res.exit_code == 1 and "db upgrade" in res.output  # no tables yet
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    ok = ["create-operator", "boss", "boss@example.com", "--password", "correct horse battery"]
    assert runner.invoke(app, ok).exit_code == 0
    res = runner.invoke(app, ok)
    assert res.exit_code == 1 and "taken" in res.output
    res = runner.invoke(app, ["create-operator", "x2", "x2@example.com", "--password", "short"])
    assert res.exit_code == 1 and "at least" in res.output


def test_demo_seeds_small_counts_without_serving_and_only_once(env, tmp_path):
    demo_dir = tmp_path / "demo"
    args = ["demo", "--no-serve", "--data-dir", str(demo_dir), "--creators", "3", "--fans", "6"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "http://127.0.0.1:8000/" in res.output
    for persona in ("operator", "creator-zh", "creator-en", "brand", "fan"):
        assert persona in res.output
    assert "sw_ops" in res.output and "shopwindow-demo" in res.output
    for shop in ("Lumen Mall", "Bamboo Market", "Pine & Co"):  # partner shops, then stopped
        assert shop in res.output
    assert "recommendations of partner products" in res.output
    url = f"sqlite:///{demo_dir.resolve()}/shopwindow.db"
    eng = _engine(url)
    with Session(eng) as s:
        assert len(s.scalars(select(Account)).all()) == 1 + 3 + 6
        assert s.scalar(text("SELECT count(*) FROM partner")) == 3
    assert any((demo_dir / "data" / "media").rglob("*.jpg"))
    res = runner.invoke(app, args)  # second run: no new accounts, same logins
    assert res.exit_code == 0, res.output
    assert "sw_ops" in res.output
    with Session(eng) as s:
        assert len(s.scalars(select(Account)).all()) == 1 + 3 + 6
    eng.dispose()


def test_demo_reset_refuses_non_sqlite(env, monkeypatch):
    monkeypatch.setenv("SHOPWINDOW_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    res = runner.invoke(app, ["demo", "--no-serve", "--reset"])
    assert res.exit_code == 1 and "SQLite" in res.output


def test_worker_refuses_immediate_mode(env):
    res = runner.invoke(app, ["worker"])
    assert res.exit_code == 1 and "immediate" in res.output


def test_timelines_rebuild_refills_home_timelines(env, tmp_path):
    from shopwindow.social import timelines

    demo_dir = tmp_path / "demo"
    res = runner.invoke(app, ["demo", "--no-serve", "--no-shops", "--data-dir", str(demo_dir),
                              "--creators", "3", "--fans", "5"])
    assert res.exit_code == 0, res.output
    url = f"sqlite:///{demo_dir.resolve()}/shopwindow.db"
    eng = _engine(url)
    with Session(eng) as s:
        fan = s.scalar(select(Account).where(Account.role == "fan"))
        before = timelines.entry_count(s, fan.id)
        assert before > 0
        s.execute(text("DELETE FROM social_home_entry"))
        s.commit()
        assert timelines.entry_count(s, fan.id) == 0
    res = runner.invoke(app, ["timelines", "rebuild"])
    assert res.exit_code == 0, res.output
    assert "rebuilt 9 home timelines" in res.output
    with Session(eng) as s:
        assert timelines.entry_count(s, fan.id) == before
    res = runner.invoke(app, ["timelines", "rebuild", "--username", "nobody_here"])
    assert res.exit_code == 1 and "no account" in res.output
    eng.dispose()


def test_demo_reset_deletes_both_sqlite_files_and_the_job_queue(env, tmp_path):
    from shopwindow import cli

    names = ["cli.db", "cli.db-wal", "cli-analytics.db", "cli-analytics.db-wal",
             "cli-analytics.db-shm", "keep.db"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "jobs.db").write_bytes(b"x")
    cli._reset_demo(cli._settings())
    left = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert left == ["keep.db"]  # an unrelated file next to them stays
    assert not (tmp_path / "data" / "jobs.db").exists()
