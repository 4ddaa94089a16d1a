"""The load generator of the mixed scenario, run as its own process (so it does not share a
GIL with what it measures): N client threads, each with its own session cookie and URL mix,
request a real server over HTTP/1.1 until a time or request budget runs out.

Input (stdin, JSON): {"host", "port", "seconds", "max_requests", "clients": [{"cookie",
"urls": [...]}]}. Output (stdout, JSON): counts, requests/s and latency percentiles.
"""

from __future__ import annotations

import http.client
import json
import math
import sys
import threading
import time


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def run(plan: dict) -> dict:
    host, port = plan["host"], int(plan["port"])
    deadline = time.monotonic() + float(plan["seconds"])
    budget = int(plan["max_requests"])
    lock = threading.Lock()
    state = {"issued": 0}
    durations: list[float] = []
    statuses: dict[str, int] = {}
    failures: list[str] = []

    def take() -> bool:
        with lock:
            if state["issued"] >= budget or time.monotonic() >= deadline:
                return False
            state["issued"] += 1
            return True

    def client(spec: dict, offset: int) -> None:
        headers = {"Cookie": spec["cookie"], "Accept": "text/html,application/json"}
        urls = spec["urls"]
        position = offset
        connection = None
        while take():
            url = urls[position % len(urls)]
            position += 1
            started = time.perf_counter()
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(host, port, timeout=30)
                connection.request("GET", url, headers=headers)
                response = connection.getresponse()
                response.read()
                status = str(response.status)
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException) as error:
                status = "error"
                if connection is not None:
                    connection.close()
                connection = None
                with lock:
                    if len(failures) < 5:
                        failures.append(f"{url}: {error!r}")
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                durations.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1
        if connection is not None:
            connection.close()

    threads = [
        threading.Thread(target=client, args=(spec, index), daemon=True)
        for index, spec in enumerate(plan["clients"])
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    ok = statuses.get("200", 0)
    return {
        "clients": len(threads),
        "seconds": round(wall, 2),
        "requests": len(durations),
        "ok": ok,
        "status_counts": statuses,
        "errors": len(durations) - ok,
        "requests_per_second": round(len(durations) / wall, 1) if wall else 0.0,
        "ok_per_second": round(ok / wall, 1) if wall else 0.0,
        "p50_ms": round(_percentile(durations, 50), 2),
        "p95_ms": round(_percentile(durations, 95), 2),
        "p99_ms": round(_percentile(durations, 99), 2),
        "max_ms": round(max(durations, default=0.0), 2),
        "failures_sample": failures,
    }


def main() -> int:
    plan = json.load(sys.stdin)
    print(json.dumps(run(plan)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
