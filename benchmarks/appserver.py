"""Run the shopwindow app under uvicorn in a child process for a benchmark."""

from __future__ import annotations

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
