"""Run the shopwindow app under uvicorn in a child process for a benchmark."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def running_app(port: int, env: dict[str, str], log_path: Path,
                timeout: float = 30.0) -> Iterator[str]:
    """Start `shopwindow.app:create_app` on 127.0.0.1:port, wait for /ping, yield the base URL."""
    base = f"http://127.0.0.1:{port}"
    with log_path.open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory",
                                 "shopwindow.app:create_app", "--port", str(port),
                                 "--log-level", "warning", "--no-access-log"],
                                env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    if httpx.get(base + "/ping").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start; see {log_path}")
                time.sleep(0.1)
            yield base
        finally:
            proc.terminate()
            proc.wait(10)


@contextmanager
def running_job_worker(env: dict[str, str], log_path: Path,
                       threads: int = 2) -> Iterator[subprocess.Popen[bytes]]:
    """`shopwindow worker` beside the app (jobs external, the production shape): the jobs
    the requests enqueue run while the load runs, on the same cores, as they would in a
    deployment. Yields the process (its pid for CPU accounting)."""
    with log_path.open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "shopwindow.cli", "worker",
                                 "--threads", str(threads)],
                                env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


@contextmanager
def running_workers(port: int, env: dict[str, str], log_path: Path,
                     workers: int) -> Iterator[str]:
    """Like appserver.running_app, with `uvicorn --workers N` (the production shape on
    PostgreSQL: each worker has its own event writer and aggregator thread)."""
    base = f"http://127.0.0.1:{port}"
    with log_path.open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory",
                                 "shopwindow.app:create_app", "--port", str(port),
                                 "--workers", str(workers), "--log-level", "warning",
                                 "--no-access-log"],
                                env=env, stdout=log, stderr=subprocess.STDOUT,
                                cwd=ROOT)
        try:
            deadline = time.monotonic() + 60
            while len(_children(proc.pid)) < workers or not _answers(base):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start; see {log_path}")
                time.sleep(0.2)
            time.sleep(1.0)  # every worker through its lifespan start-up
            yield base
        finally:
            proc.terminate()
            proc.wait(20)


def _answers(base: str) -> bool:
    try:
        return httpx.get(base + "/ping").status_code == 200
    except httpx.HTTPError:
        return False


def _children(pid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(d))
    return out


def app_server_pids(base: str) -> list[int]:
    """The uvicorn process listening on the base URL's port and, with --workers, its
    worker processes (uvicorn's multiprocessing helpers included: they use next to no
    CPU)."""
    pid = _server_pid(base)
    ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    if _is_uvicorn(ppid):
        pid = ppid  # a worker was found: count the master and all its children
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo.extend(_children(p))
    return seen


def _is_uvicorn(pid: int) -> bool:
    try:
        return b"uvicorn" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _server_pid(base: str) -> int:
    """The uvicorn child listening on the base URL's port (from /proc/net/tcp)."""
    port = int(base.rsplit(":", 1)[1])
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        if int(parts[1].split(":")[1], 16) == port and parts[3] == "0A":
            inodes.add(parts[9])
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(pid)
        except OSError:
            continue
    raise RuntimeError("server process not found")
