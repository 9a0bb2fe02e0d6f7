"""CPU time used by the benchmark's app server (user + system, all threads), read from
/proc: on a machine shared with other work, requests per CPU-second of the server is a
steadier figure than requests per wall-clock second."""

from __future__ import annotations

import os
from pathlib import Path


def server_pid(port: int) -> int | None:
    """The pid of the uvicorn process serving `port` (started by appserver.running_app)."""
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"uvicorn" in b" ".join(cmd) and str(port).encode() in cmd:
            return int(d.name)
    return None


def cpu_seconds(pid: int | None) -> float:
    """utime + stime of a process, in seconds (0.0 if it is gone or unknown)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
