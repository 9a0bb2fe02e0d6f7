"""SQLite write transactions of one process queue on a Python lock that is always released."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from shopwindow.db import engine as engine_mod
from shopwindow.db.engine import make_engine


@pytest.fixture
def eng(tmp_path):
    e = make_engine(f"sqlite:///{tmp_path}/w.db", pool_size=4)
    with e.begin() as c:
        c.execute(text("CREATE TABLE t (n INTEGER)"))
    yield e
    e.dispose()


def _lock_of(tmp_path):
    return engine_mod._writer_lock(f"{tmp_path}/w.db")


def test_commit_rollback_and_errors_release_the_lock(eng, tmp_path):
    lock = _lock_of(tmp_path)
    with eng.begin() as c:
        c.execute(text("INSERT INTO t VALUES (1)"))
        assert lock.locked()
    assert not lock.locked()
    with pytest.raises(RuntimeError), eng.begin() as c:
        c.execute(text("INSERT INTO t VALUES (2)"))
        raise RuntimeError("boom")
    assert not lock.locked()
    with Session(eng) as s:  # a session that begins and is closed without commit
        s.execute(text("INSERT INTO t VALUES (3)"))
    assert not lock.locked()
    with eng.connect() as c:
        assert c.execute(text("SELECT n FROM t")).scalars().all() == [1]


def test_a_session_may_commit_on_another_thread(eng, tmp_path):
    lock = _lock_of(tmp_path)
    s = Session(eng)
    s.execute(text("INSERT INTO t VALUES (1)"))  # begins here, on this thread
    t = threading.Thread(target=s.commit)
    t.start()
    t.join(5)
    s.close()
    assert not lock.locked()


def test_concurrent_writers_take_turns_without_busy_back_off(eng):
    done: list[float] = []

    def writer(n: int) -> None:
        for i in range(20):
            t0 = time.perf_counter()
            with eng.begin() as c:
                c.execute(text("INSERT INTO t VALUES (:n)"), {"n": n * 100 + i})
            done.append(time.perf_counter() - t0)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    with eng.connect() as c:
        assert c.execute(text("SELECT count(*) FROM t")).scalar() == 80
    assert len(done) == 80
