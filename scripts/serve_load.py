#!/usr/bin/env python
"""Load on ``openpose-py serve`` over loopback: one JSON line per measurement on stdout. It measures; it never asserts.

For each batching setting (``--max-batch`` values, 1 = off) the script starts a server on 127.0.0.1 and waits until
it is ready. Then, in ``--rounds`` rounds that alternate between the servers (so that other jobs on a shared machine
slow each setting alike), ``--clients`` concurrent clients POST the same photo to ``/v1/pose`` back to back (closed
loop), ``--requests / --rounds`` per round and server, each round bounded by ``--max-seconds / --rounds``. Per setting
it reports throughput (answers per second over its rounds, and per round) and the p50/p99 latency of the answered
requests, the mean batch size the server ran (from ``/healthz``), and any refusals.

Then, on the first setting's server, a burst: requests are fired open loop at ``--burst-factor`` times the throughput
just measured for ``--burst-seconds``; every request must end as an answer (200) or a refusal (429/503 with a JSON
``error``). The line counts each outcome and then checks recovery: ``--recovery-requests`` sequential requests after
the burst and their statuses, and whether the server is still ready.

Example:
  python scripts/serve_load.py --image ../shared/data/openpose-media/COCO_val2014_000000000192.jpg \\
      --height 256 --threads 2 --clients 8 --requests 120 --max-batch 8,1
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

_SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DEFAULT_IMAGE = _SHARED / "data" / "openpose-media" / "COCO_val2014_000000000192.jpg"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """``openpose-py serve`` on a free loopback port, stopped with SIGINT on exit."""

    def __init__(self, args: argparse.Namespace, max_batch: int) -> None:
        exe = shutil.which("openpose-py") or str(Path(sys.executable).parent / "openpose-py")
        self.url = f"http://127.0.0.1:{_free_port()}"
        self.argv = [exe, "serve", "--host", "127.0.0.1", "--port", self.url.rsplit(":", 1)[1],
                     "--max-batch", str(max_batch), "--max-queue", str(args.max_queue),
                     "--batch-wait-ms", str(args.batch_wait_ms), "--backend", args.backend]
        if args.height:
            self.argv += ["--height", str(args.height)]
        if args.threads:
            self.argv += ["--threads", str(args.threads)]
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "ServerProcess":
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited: {self.proc.stderr.read().decode(errors='replace')}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        raise SystemExit("the server was not ready within 300 s")

    def __exit__(self, *exc: Any) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _loadavg() -> list[float] | None:
    """1, 5 and 15-minute load averages at the end of a measurement (the machine may be shared)."""
    path = Path("/proc/loadavg")
    return [float(v) for v in path.read_text().split()[:3]] if path.exists() else None


def _percentiles(latencies: list[float]) -> dict[str, float | None]:
    if not latencies:
        return {"p50_ms": None, "p99_ms": None}
    arr = np.asarray(latencies) * 1e3
    return {"p50_ms": round(float(np.percentile(arr, 50)), 1), "p99_ms": round(float(np.percentile(arr, 99)), 1)}


async def _closed_loop(url: str, image: bytes, clients: int, requests: int,
                       max_seconds: float) -> tuple[list[float], dict[str, int], float]:
    """(latencies of the answered requests in s, count per status, wall time in s)."""
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    issued = 0
    deadline = time.perf_counter() + max_seconds

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal issued
        while issued < requests and time.perf_counter() < deadline:
            issued += 1
            t0 = time.perf_counter()
            reply = await http.post("/v1/pose", content=image, headers={"Content-Type": "image/jpeg"})
            statuses[str(reply.status_code)] = statuses.get(str(reply.status_code), 0) + 1
            if reply.status_code == 200:
                latencies.append(time.perf_counter() - t0)

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        return latencies, statuses, time.perf_counter() - started


async def _burst(url: str, image: bytes, rate: float, seconds: float) -> dict[str, Any]:
    outcomes: dict[str, int] = {}
    unclear: list[str] = []
    latencies: list[float] = []

    async def one(http: httpx.AsyncClient) -> None:
        t0 = time.perf_counter()
        try:
            reply = await http.post("/v1/pose", content=image, headers={"Content-Type": "image/jpeg"})
        except httpx.HTTPError as exc:
            outcomes["transport_error"] = outcomes.get("transport_error", 0) + 1
            unclear.append(type(exc).__name__)
            return
        key = str(reply.status_code)
        outcomes[key] = outcomes.get(key, 0) + 1
        if reply.status_code == 200:
            latencies.append(time.perf_counter() - t0)
        elif reply.status_code in (429, 503):
            if not reply.json().get("error"):
                unclear.append(f"{key} without an error message")
        else:
            unclear.append(f"{key}: {reply.text[:100]}")

    count = max(1, int(round(rate * seconds)))
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=httpx.Limits(max_connections=None)) as http:
        tasks = []
        started = time.perf_counter()
        for i in range(count):  # open loop: requests go out on schedule whether or not earlier ones were answered
            await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(one(http)))
        await asyncio.gather(*tasks)
        wall = time.perf_counter() - started
    return {"sent": count, "rate_rps": round(rate, 2), "outcomes": outcomes, "unclear": unclear[:5],
            "wall_s": round(wall, 2), "answered_p50_ms": _percentiles(latencies)["p50_ms"]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image", type=Path, default=DEFAULT_IMAGE, help="The photo every request sends.")
    parser.add_argument("--clients", type=int, default=8, help="Concurrent clients (closed loop).")
    parser.add_argument("--requests", type=int, default=120, help="Answers to collect per setting (a bound).")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="Time bound per setting.")
    parser.add_argument("--rounds", type=int, default=3,
                        help="Rounds alternating between the settings; each runs --requests / --rounds requests.")
    parser.add_argument("--max-batch", default="8,1", help="Comma-separated server --max-batch values to compare.")
    parser.add_argument("--batch-wait-ms", type=float, default=5.0)
    parser.add_argument("--max-queue", type=int, default=32)
    parser.add_argument("--height", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--backend", default="torch")
    parser.add_argument("--burst-factor", type=float, default=4.0,
                        help="Burst rate as a multiple of throughput (0: none).")
    parser.add_argument("--burst-seconds", type=float, default=5.0)
    parser.add_argument("--recovery-requests", type=int, default=5)
    args = parser.parse_args(argv)
    if args.clients < 1 or args.rounds < 1 or not 1 <= args.requests <= 10_000 or args.burst_seconds > 60:
        parser.error("--clients and --rounds >= 1, 1 <= --requests <= 10000 and --burst-seconds <= 60")
    image = args.image.read_bytes()
    common = {"image": args.image.name, "clients": args.clients, "height": args.height, "threads": args.threads,
              "backend": args.backend}
    settings = [int(v) for v in args.max_batch.split(",")]
    per_round = max(1, args.requests // args.rounds)
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(ServerProcess(args, b)) for b in settings]
        for server in servers:
            for _ in range(3):  # warm the connection path and the network's first calls
                httpx.post(server.url + "/v1/pose", content=image, timeout=120)
        before = [httpx.get(s.url + "/healthz").json() for s in servers]
        runs: list[list[tuple[list[float], dict[str, int], float]]] = [[] for _ in servers]
        # rounds alternate between the settings, so a change in the machine's load hits each of them alike
        for _ in range(args.rounds):
            for server, results in zip(servers, runs):
                results.append(asyncio.run(_closed_loop(server.url, image, args.clients, per_round,
                                                        args.max_seconds / args.rounds)))
        throughput = []
        for max_batch, server, start, results in zip(settings, servers, before, runs):
            after = httpx.get(server.url + "/healthz").json()
            batches = after["batches"] - start["batches"]
            latencies = [v for lat, _, _ in results for v in lat]
            statuses: dict[str, int] = {}
            for _, st, _ in results:
                for k, v in st.items():
                    statuses[k] = statuses.get(k, 0) + v
            wall = sum(w for _, _, w in results)
            throughput.append(len(latencies) / wall)
            print(json.dumps({
                "mode": "closed_loop", "max_batch": max_batch, **common, "rounds": args.rounds,
                "answered": len(latencies), "statuses": statuses, "wall_s": round(wall, 2),
                "throughput_rps": round(throughput[-1], 2),
                "round_throughputs_rps": [round(len(lat) / w, 2) for lat, _, w in results], **_percentiles(latencies),
                "mean_batch": round((after["images"] - start["images"]) / batches, 2) if batches else None,
                "largest_batch": after["largest_batch"], "loadavg": _loadavg()}), flush=True)
        if args.burst_factor > 0 and throughput[0] > 0:
            server = servers[0]
            burst = asyncio.run(_burst(server.url, image, args.burst_factor * throughput[0], args.burst_seconds))
            time.sleep(1.0)
            recovery = [httpx.post(server.url + "/v1/pose", content=image, timeout=120).status_code
                        for _ in range(args.recovery_requests)]
            ready = httpx.get(server.url + "/readyz").status_code == 200
            print(json.dumps({"mode": "burst", "max_batch": settings[0], "burst_factor": args.burst_factor,
                              **common, **burst, "recovery_statuses": recovery, "ready_after": ready,
                              "loadavg": _loadavg()}), flush=True)


if __name__ == "__main__":
    os.environ.setdefault("OPENPOSE_PY_OFFLINE", "1")
    main()
