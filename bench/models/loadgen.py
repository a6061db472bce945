"""HTTP load generation for the serving benchmark: ``wrk`` when installed, else a small
asyncio client (stdlib only) with the same shape: N keep-alive connections, each sending the
same POST back to back for a fixed time.

Both report requests per second, p50/p99 latency in milliseconds, and the number of non-2xx
answers (which must be 0 for a valid measurement).
"""

from __future__ import annotations

import asyncio
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def generator_name() -> str:
    path = shutil.which("wrk")
    if path:
        version = subprocess.run([path, "-v"], capture_output=True, text=True, check=False)
        first = (version.stdout or version.stderr).strip().splitlines()
        return first[0] if first else "wrk"
    return "asyncio client (bench/models/loadgen.py)"


def run(url: str, body: bytes, connections: int, seconds: float) -> dict[str, Any]:
    """Load ``url`` with ``body`` POSTed over ``connections`` connections for ``seconds``."""
    if shutil.which("wrk"):
        return _wrk(url, body, connections, seconds)
    return asyncio.run(_asyncio_load(url, body, connections, seconds))


def _wrk(url: str, body: bytes, connections: int, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        body_file = Path(tmp) / "body.json"
        body_file.write_bytes(body)
        script = Path(tmp) / "post.lua"
        script.write_text(
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            f'local f = io.open("{body_file}", "rb")\n'
            'wrk.body = f:read("*a")\n'
            "f:close()\n"
        )
        done = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--latency",
                "-s",
                str(script),
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    return _parse_wrk(done.stdout)


def _parse_wrk(text: str) -> dict[str, Any]:
    def latency(pct: str) -> float:
        match = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.MULTILINE)
        if not match:
            raise ValueError(f"no {pct}% latency in wrk output:\n{text}")
        return float(match.group(1)) * _UNITS[match.group(2)]

    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    total = re.search(r"(\d+) requests in", text)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    socket_errors = re.search(r"Socket errors:.*", text)
    if not rps or not total:
        raise ValueError(f"unexpected wrk output:\n{text}")
    return {
        "rps": float(rps.group(1)),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "requests": int(total.group(1)),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(0) if socket_errors else None,
    }


async def _asyncio_load(url: str, body: bytes, connections: int, seconds: float) -> dict[str, Any]:
    match = re.match(r"http://([^/:]+):(\d+)(/.*)", url)
    if not match:
        raise ValueError(f"unsupported URL {url!r}")
    host, port, path = match.group(1), int(match.group(2)), match.group(3)
    request = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def connection() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                writer.write(request)
                status = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode().partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                await reader.readexactly(length)
                latencies.append((time.perf_counter() - start) * 1000)
                if not status.split()[1].startswith(b"2"):
                    errors += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(ordered),
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "requests": len(latencies),
        "non_2xx": errors,
        "socket_errors": None,
    }
