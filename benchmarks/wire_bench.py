"""Benchmark: the wire parser on a 10,000-task QueryRtcAsrTasks answer.

Run: ``python benchmarks/wire_bench.py [--tasks 10000] [--repeats 7]`` from the repository root.

Builds an answer in the documented shape (every task like the api-reference sample: string
numbers, ``+08:00`` timestamps, a stream URL with ``auth_key``), then times, as the median of
a few repeats: ``decode_json_object`` on the bytes, ``parse_tasks`` on the envelope, both
together, ``parse_tasks`` on the map-of-JSON-strings shape, and masking every stream URL (what
an export or the table's stream column costs). Prints a PASS/FAIL line per target and exits 1
when one is missed.

Targets: decode + parse of 10,000 tasks under 100 ms; ``parse_tasks`` alone under 60 ms.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from asrtui import wire
from asrtui.redact import mask_stream_url

TARGETS_MS = {"decode + parse_tasks": 100.0, "parse_tasks": 60.0}


def make_task(index: int) -> dict[str, Any]:
    task_id = f"asr-{index:08x}-0939-4288-973e-170082aa{index % 10000:04d}"
    return {
        "createdAt": "2024-05-14T11:52:02+08:00",
        "updatedAt": "2024-05-14T11:52:03+08:00",
        "mode": "live",
        "taskId": task_id,
        "language": ("cn", "en", "ja", "yue", "fspk")[index % 5],
        "callbackUrl": "default",
        "autoTerminateDelay": "10",
        "streamUrl": (
            f"http://pull-lveditor.alivecdn.com/caster/{index:032x}.flv"
            f"?auth_key=1715745062-0-0-{index:032x}"
        ),
        "status": 1,
        "reportInterval": "0",
        "aliUid": "1119309225474343",
        "tag": f"tag-{index % 7}",
    }


def median_ms(work: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    tasks = {task["taskId"]: task for task in map(make_task, range(args.tasks))}
    body = json.dumps(
        {"Description": "success", "RequestId": "bench", "RetCode": 2000, "Tasks": tasks}
    ).encode()
    strings_envelope = {"Tasks": {key: json.dumps(value) for key, value in tasks.items()}}
    envelope = wire.decode_json_object(body)
    parsed = wire.parse_tasks(envelope)
    assert len(parsed.tasks) == args.tasks

    figures = {
        "decode_json_object": median_ms(lambda: wire.decode_json_object(body), args.repeats),
        "parse_tasks": median_ms(lambda: wire.parse_tasks(envelope), args.repeats),
        "decode + parse_tasks": median_ms(
            lambda: wire.parse_tasks(wire.decode_json_object(body)), args.repeats
        ),
        "parse_tasks, map of JSON strings": median_ms(
            lambda: wire.parse_tasks(strings_envelope), args.repeats
        ),
        "mask_stream_url x all": median_ms(
            lambda: [mask_stream_url(task.stream_url) for task in parsed.tasks], args.repeats
        ),
    }

    print(f"{args.tasks} tasks, body {len(body) / 1e6:.1f} MB, median of {args.repeats}")
    failed = False
    for name, value in figures.items():
        target = TARGETS_MS.get(name)
        if target is None:
            print(f"  {name:<34} {value:8.1f} ms")
            continue
        verdict = "PASS" if value <= target else "FAIL"
        failed |= verdict == "FAIL"
        print(f"  {name:<34} {value:8.1f} ms   target <= {target:.0f} ms   {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
