"""Bounded HTTP load for the benchmarks: wrk when installed, else a Python generator.

Both keep a fixed number of keep-alive connections busy for a fixed time and report
requests/s and latency percentiles; neither asserts anything.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

WRK_LUA = r"""
local tokens = {}
local idx = 0
local n = 0
function setup(thread)
  n = n + 1
  thread:set("tid", n)
end
function init(args)
  for line in io.lines(args[1]) do tokens[#tokens + 1] = line end
  idx = (tid or 1) * 7919 % #tokens
end
function request()
  idx = idx % #tokens + 1
  return wrk.format("GET", args_path, {["Authorization"] = "Bearer " .. tokens[idx]})
end
"""


@dataclass
class Result:
    tool: str
    url: str
    connections: int
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    bytes_per_response: float = 0.0


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def _ms(v: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", v.strip())
    if not m:
        return float("nan")
    x, unit = float(m.group(1)), m.group(2)
    return {"us": x / 1000, "ms": x, "s": x * 1000, "m": x * 60_000}[unit]


def run_wrk(url: str, *, connections: int, seconds: int, threads: int = 2,
            path: str | None = None, tokens_file: Path | None = None) -> Result:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
           "--timeout", "5s"]
    script = None
    if tokens_file is not None:
        assert path is not None
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)  # noqa: SIM115
        script.write(f'args_path = "{path}"\n' + WRK_LUA)
        script.close()
        cmd += ["-s", script.name, url, "--", str(tokens_file)]
    else:
        cmd.append(url)
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    finally:
        if script is not None:
            os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    errs = 0
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if m:
        errs += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errs += sum(int(x) for x in m.groups())
    m = re.search(r"(\d+) requests in [\d.]+\w+, ([\d.]+)(B|KB|MB|GB) read", out)
    size = 0.0
    if m:
        size = float(m.group(2)) * {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}[
            m.group(3)] / max(1, int(m.group(1)))
    return Result("wrk", url, connections, float(seconds), total, rps, p50, p99, errs, size)


async def _py_load(host: str, port: int, path: str, tokens: list[str] | None,
                   connections: int, seconds: float) -> Result:
    lat: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds
    counter = 0
    nbytes = 0

    async def conn(k: int) -> None:
        nonlocal errors, counter, nbytes
        reader, writer = await asyncio.open_connection(host, port)
        i = k * 7919
        while time.perf_counter() < stop_at:
            hdr = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            if tokens:
                i += 1
                hdr += f"Authorization: Bearer {tokens[i % len(tokens)]}\r\n"
            t0 = time.perf_counter()
            writer.write((hdr + "\r\n").encode())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            m = re.search(rb"(?i)content-length:\s*(\d+)", head)
            if m:
                nbytes += len(head) + len(await reader.readexactly(int(m.group(1))))
            lat.append(time.perf_counter() - t0)
            counter += 1
            if status >= 400:
                errors += 1
        writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(conn(k) for k in range(connections)))
    dt = time.perf_counter() - t0
    lat.sort()

    def pct(q: float) -> float:
        return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else float("nan")

    return Result("python", f"http://{host}:{port}{path}", connections, dt, len(lat),
                  len(lat) / dt, pct(0.50), pct(0.99), errors, nbytes / max(1, len(lat)))


def run_python(url: str, *, connections: int, seconds: int, path: str | None = None,
               tokens_file: Path | None = None) -> Result:
    m = re.match(r"http://([^:/]+):(\d+)(/.*)?", url)
    assert m
    toks = tokens_file.read_text().split() if tokens_file else None
    return asyncio.run(_py_load(m.group(1), int(m.group(2)), path or m.group(3) or "/", toks,
                                connections, seconds))


class Pool:
    """A few keep-alive HTTP/1.1 connections for latency probes (far cheaper than httpx)."""

    def __init__(self, host: str, port: int, size: int = 32) -> None:
        self.host, self.port, self.size = host, port, size
        self.free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = \
            asyncio.Queue()
        self.opened = 0

    async def request(self, method: str, path: str, headers: dict[str, str] | None = None,
                      body: bytes = b"") -> tuple[int, bytes]:
        if self.free.empty() and self.opened < self.size:
            self.opened += 1
            conn = await asyncio.open_connection(self.host, self.port)
        else:
            conn = await self.free.get()
        reader, writer = conn
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        for k, v in (headers or {}).items():
            head += f"{k}: {v}\r\n"
        if body:
            head += f"Content-Length: {len(body)}\r\n"
        writer.write(head.encode() + b"\r\n" + body)
        raw = await reader.readuntil(b"\r\n\r\n")
        status = int(raw.split(b" ", 2)[1])
        m = re.search(rb"(?i)content-length:\s*(\d+)", raw)
        data = await reader.readexactly(int(m.group(1))) if m else b""
        self.free.put_nowait(conn)
        return status, data

    async def close(self) -> None:
        while not self.free.empty():
            _r, w = self.free.get_nowait()
            w.close()


def run(url: str, *, connections: int, seconds: int, path: str | None = None,
        tokens_file: Path | None = None, tool: str = "auto") -> Result:
    """Load `url` (with rotating bearer tokens from `tokens_file`) and report."""
    if tool == "wrk" or (tool == "auto" and wrk_available()):
        return run_wrk(url, connections=connections, seconds=seconds, path=path,
                       tokens_file=tokens_file)
    return run_python(url, connections=connections, seconds=seconds, path=path,
                      tokens_file=tokens_file)
