"""The WAL of a SQLite database in use is checkpointed by the background thread, not by
the committing writer (whose requests would wait for it)."""

from __future__ import annotations

import sqlite3
import time

from sqlalchemy import text

from shopwindow.db import engine as engine_mod
from shopwindow.db.engine import Checkpointer, Database


def test_writers_leave_checkpoints_to_the_background_thread(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/c.db", pool_size=2)
    path = f"{tmp_path}/c.db"
    try:
        with db.engine.connect() as c:
            assert c.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == \
                engine_mod.AUTOCHECKPOINT_PAGES
        with db.engine.begin() as c:
            c.execute(text("CREATE TABLE t (n INTEGER, pad TEXT)"))
        for i in range(50):
            with db.engine.begin() as c:
                c.execute(text("INSERT INTO t VALUES (:n, :p)"), {"n": i, "p": "x" * 2000})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            last = engine_mod.checkpointer.last.get(path)
            if last is not None and last[1] > 0 and last[2] == last[1]:
                break
            time.sleep(0.05)
        busy, frames, done = engine_mod.checkpointer.last[path]
        assert busy == 0 and frames > 0 and done == frames  # every WAL frame copied back
        with db.read_engine.connect() as c:
            assert c.execute(text("SELECT count(*) FROM t")).scalar() == 50
    finally:
        db.dispose()
    assert path not in engine_mod.checkpointer.last


def test_a_deleted_database_is_never_recreated(tmp_path):
    cp = Checkpointer(interval=3600)  # driven by hand
    path = f"{tmp_path}/gone.db"
    sqlite3.connect(path).execute("PRAGMA journal_mode=WAL").fetchall()
    cp.add(path)
    (tmp_path / "gone.db").unlink()
    try:
        cp.checkpoint(path)
    except sqlite3.Error:
        pass
    assert not (tmp_path / "gone.db").exists()
    cp.remove(path)
    assert cp.checkpoint(path) is None
