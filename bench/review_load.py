"""Measure the review workbench: how long a reviewer waits for the next clip with many reviewers at once, and how
many clips one watermarking worker prepares.

Next-clip latency: a real `homewarden cloud serve` process (``--api-processes`` of them, reviewers spread round-robin)
on a fresh PostgreSQL database; ``--homes`` homes with ``--per-home`` queued donations each (rows only: `next` never
opens a clip); ``--reviewers`` reviewers made and signed in with their TOTP codes, each on a thread of its own doing
``--rounds`` rounds of "whoami, next, then label" as fast as it can (or pausing ``--think-seconds`` on average after
each, as a reviewer watching the clip would). Each `next` is one HTTP round trip; its latency is timed from the
request to the answer. Printed: p50, p95, max, and requests per second; and as a baseline on the same
loaded machine, p50/p95 of ``GET /api/v1/staff/session`` (the session check alone) sent just before each `next`, with
the ratio of the two p95s.

With ``--media``: each reviewer also asks for the clip's media link after each `next` and waits for it, as the
page does before it plays the clip; a real `homewarden cloud worker` (one process, concurrency 1) on RabbitMQ burns
the watermark in, so every queued copy is a real sealed clip (``--media-clip``, from ../shared/datasets/real) and
``--homes`` x ``--per-home`` should stay small. Printed besides: how many media links came and how many were refused
(the worker did not answer within ``--watermark-wait`` seconds), and the p50/max wait for a link.

With ``--sequential N``: N reviewers each ask `next` once, one after the other, in this process (no HTTP, no burst),
turn and turn about through the one-statement path and the ORM path: their time and how many SQL statements each
sends (BEGIN, COMMIT and the pool's ping are not counted).

Watermarking: one process doing what one worker does for a media link (read the sealed copy, open it with the
program key in memory, decode with PyAV, burn the watermark in, encode, seal under a fresh key, write it back, mark
the link ready), ``--watermark-runs`` times per clip, on real footage from ../shared/datasets/real. Printed per clip:
seconds per clip, clips per minute and seconds of video per second. Not a test: timings on a shared machine swing.

    PYTHONPATH=src .venv/bin/python bench/review_load.py --reviewers 50 --rounds 10
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import secrets
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
import httpx2 as httpx
import pyotp
from sqlalchemy import event

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from cloud.review.conftest import queue_rows, seal_to_program  # noqa: E402  (the tests' fixtures of rows and copies)
from cloud_process import (  # noqa: E402
    RABBITMQ_URL,
    run_cloud_command,
    start_cloud_serve,
    start_cloud_worker,
    write_cloud_config,
)
from homewarden.cloud.config import load_cloud_config  # noqa: E402
from homewarden.cloud.models import Home, ReviewDonation  # noqa: E402
from homewarden.cloud.review.workbench import Labels  # noqa: E402
from homewarden.cloud.services import CloudServices  # noqa: E402
from services import fresh_postgres_database  # noqa: E402

DATASETS = REPO.parent / "shared" / "datasets" / "real"
DEFAULT_CLIPS = ("cat_fed_by_hand.mp4", "courtyard_woman_and_dog_aac.mp4")
PASSWORD = "a long reviewer password"


def percentile(values: list[float], which: int) -> float:
    """Return the ``which``-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(which / 100 * len(ordered)) - 1))]


def load_average() -> str:
    """Return the machine's load average now."""
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def make_homes(services: CloudServices, count: int) -> list[str]:
    """Insert ``count`` homes (rows only) and return their ids."""
    ids = [f"h_bench{secrets.token_hex(8)}" for _ in range(count)]
    with services.database.session() as session:
        for home_id in ids:
            session.add(Home(id=home_id, quota_bytes=1 << 30, retention_days=30, created_at=datetime.now(UTC)))
    return ids


def sign_in(client: httpx.Client, services: CloudServices, name: str) -> str:
    """Make a reviewer and sign it in through the API with its TOTP code; return the token."""
    made = services.staff.create(name, PASSWORD, "reviewer")
    answer = client.post(
        "/api/v1/staff/session",
        json={"username": name, "password": PASSWORD, "code": pyotp.TOTP(made.totp_secret).now()},
    )
    answer.raise_for_status()
    return str(answer.json()["token"])


def next_clip_latency(args: argparse.Namespace, folder: Path, database_url: str) -> dict[str, Any]:
    """Run the reviewers against real serve processes; return the latencies of `next`."""
    if args.media:
        config = write_cloud_config(
            folder / "next",
            database_url,
            broker_url=RABBITMQ_URL,
            queue=f"hw-bench-{secrets.token_hex(6)}",
            extra={"review": {"watermark_wait_seconds": args.watermark_wait}},
        )
    else:
        config = write_cloud_config(folder / "next", database_url)
    migrated = run_cloud_command("migrate", "--config", str(config))
    assert migrated.returncode == 0, migrated.stderr
    services = CloudServices.build(load_cloud_config(config), migrate=False)
    with ExitStack() as stack:
        stack.callback(services.close)
        for home_id in make_homes(services, args.homes):
            donation_ids = queue_rows(services.database, home_id, args.per_home)
            if args.media:
                store_sealed_copies(services, donation_ids, (DATASETS / args.media_clip).read_bytes())
        if args.media:
            worker = start_cloud_worker(config, f"bench-watermark-{secrets.token_hex(4)}@%h")
            stack.callback(worker.stop)
        processes = [start_cloud_serve(config) for _ in range(args.api_processes)]
        for process in processes:
            stack.callback(process.stop)
        clients = [stack.enter_context(httpx.Client(base_url=p.base_url, timeout=60)) for p in processes]
        tokens = [
            sign_in(clients[index % len(clients)], services, f"bench-{index:03d}-{secrets.token_hex(3)}")
            for index in range(args.reviewers)
        ]
        latencies: list[float] = []
        baseline: list[float] = []
        media_waits: list[float] = []
        media_refused: list[str] = []
        errors: list[str] = []
        lock = threading.Lock()
        start = threading.Barrier(args.reviewers)

        def reviewer(index: int) -> None:
            timeout = 60 + (args.watermark_wait if args.media else 0)
            with httpx.Client(base_url=processes[index % len(processes)].base_url, timeout=timeout) as client:
                headers = {"Authorization": f"Bearer {tokens[index]}"}
                start.wait()
                if args.arrival_spread:
                    # Reviewers start their shifts over a spread of time, not in the same millisecond.
                    time.sleep(arrivals[index])
                for _ in range(args.rounds):
                    # The baseline: the cheapest authenticated request (the session check alone), at the same moment.
                    began = time.perf_counter()
                    who = client.get("/api/v1/staff/session", headers=headers)
                    took = time.perf_counter() - began
                    if who.status_code != 200:
                        with lock:
                            errors.append(f"whoami {who.status_code} {who.text[:100]}")
                        return
                    with lock:
                        baseline.append(took)
                    began = time.perf_counter()
                    answer = client.post("/api/v1/workbench/next", headers=headers)
                    took = time.perf_counter() - began
                    if answer.status_code != 200:
                        with lock:
                            errors.append(f"{answer.status_code} {answer.text[:100]}")
                        return
                    with lock:
                        latencies.append(took)
                    if args.media:
                        began = time.perf_counter()
                        link = client.post(
                            f"/api/v1/workbench/assignments/{answer.json()['id']}/media", headers=headers
                        )
                        took = time.perf_counter() - began
                        with lock:
                            if link.status_code == 200:
                                media_waits.append(took)
                            else:
                                media_refused.append(f"{link.status_code} {link.text[:100]}")
                    labelled = client.post(
                        f"/api/v1/workbench/assignments/{answer.json()['id']}/labels",
                        json={"verdict": "real_event", "label": "person"},
                        headers=headers,
                    )
                    if labelled.status_code != 200:
                        with lock:
                            errors.append(f"label {labelled.status_code} {labelled.text[:100]}")
                        return
                    if args.think_seconds:
                        time.sleep(random.uniform(0, 2 * args.think_seconds))

        spread = random.Random(7)
        arrivals = [spread.uniform(0, args.arrival_spread) for _ in range(args.reviewers)]
        threads = [threading.Thread(target=reviewer, args=(index,)) for index in range(args.reviewers)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
    return {
        "reviewers": args.reviewers,
        "api_processes": args.api_processes,
        "think_seconds": args.think_seconds,
        "arrival_spread": args.arrival_spread,
        "queued": args.homes * args.per_home,
        "nexts": len(latencies),
        "errors": errors[:5],
        "error_count": len(errors),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 95) * 1000, 1) if latencies else None,
        "max_ms": round(max(latencies) * 1000, 1) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else None,
        "nexts_per_second": round(len(latencies) / elapsed, 1),
        "baseline_p50_ms": round(percentile(baseline, 50) * 1000, 1) if baseline else None,
        "baseline_p95_ms": round(percentile(baseline, 95) * 1000, 1) if baseline else None,
        "p95_ratio_to_baseline": round(percentile(latencies, 95) / percentile(baseline, 95), 2)
        if latencies and baseline
        else None,
        **(
            {
                "media_links": len(media_waits),
                "media_refused": len(media_refused),
                "media_refusals": sorted(set(media_refused))[:3],
                "media_wait_p50_s": round(percentile(media_waits, 50), 1) if media_waits else None,
                "media_wait_max_s": round(max(media_waits), 1) if media_waits else None,
            }
            if args.media
            else {}
        ),
    }


def store_sealed_copies(services: CloudServices, donation_ids: list[str], plaintext: bytes) -> None:
    """Seal ``plaintext`` to the program key as each of ``donation_ids`` and keep it as that queued copy's bytes."""
    for donation_id in donation_ids:
        blob = seal_to_program(services.program_keys.program(), donation_id, plaintext)
        key = f"review/{donation_id}"
        services.store.put(key, blob)
        with services.database.session() as session:
            row = session.get(ReviewDonation, donation_id)
            assert row is not None
            row.object_key, row.size, row.key_id = key, len(blob), services.program_keys.current().key_id


def next_in_process(args: argparse.Namespace, folder: Path, database_url: str) -> dict[str, Any]:
    """Time `next` alone, one reviewer at a time, in this process; count its SQL statements (no HTTP, no burst)."""
    config = write_cloud_config(folder / "sequential", database_url)
    migrated = run_cloud_command("migrate", "--config", str(config))
    assert migrated.returncode == 0, migrated.stderr
    services = CloudServices.build(load_cloud_config(config), migrate=False)
    statements = 0

    def count(*_args: object) -> None:
        nonlocal statements
        statements += 1

    try:
        for home_id in make_homes(services, args.homes):
            queue_rows(services.database, home_id, args.per_home)
        views = []
        for index in range(args.sequential):
            name = f"seq-{index:03d}-{secrets.token_hex(3)}"
            made = services.staff.create(name, PASSWORD, "reviewer")
            token = services.staff.sign_in(name, PASSWORD, pyotp.TOTP(made.totp_secret).now(), "bench")
            views.append(services.staff.staff_for_token(token))
        event.listen(services.database.engine, "before_cursor_execute", count)
        workbench = services.workbench
        one_statement = workbench._assign_in_one_statement
        timings: dict[str, list[float]] = {"one statement": [], "orm path": []}
        counts: dict[str, list[int]] = {"one statement": [], "orm path": []}
        # Turn and turn about, so both paths see the same load: the ORM path (SQLite's, and PostgreSQL's before)
        # is what `next` takes when the one statement answers "an assignment is open".
        for index, view in enumerate(views):
            path = "one statement" if index % 2 == 0 else "orm path"
            workbench._assign_in_one_statement = (  # type: ignore[method-assign]
                one_statement if path == "one statement" else lambda *_args: None
            )
            before = statements
            began = time.perf_counter()
            workbench.next(view)
            timings[path].append(time.perf_counter() - began)
            counts[path].append(statements - before)
        event.remove(services.database.engine, "before_cursor_execute", count)
    finally:
        services.close()
    return {
        path: {
            "nexts": len(timings[path]),
            "statements_per_next": statistics.median(counts[path]),
            "p50_ms": round(percentile(timings[path], 50) * 1000, 1),
            "p95_ms": round(percentile(timings[path], 95) * 1000, 1),
            "mean_ms": round(statistics.fmean(timings[path]) * 1000, 1),
        }
        for path in timings
    }


def watermark_throughput(args: argparse.Namespace, folder: Path, database_url: str) -> list[dict[str, Any]]:
    """Prepare media links one after the other in this process (what one worker does); return per-clip rates."""
    config = write_cloud_config(folder / "watermark", database_url)
    migrated = run_cloud_command("migrate", "--config", str(config))
    assert migrated.returncode == 0, migrated.stderr
    services = CloudServices.build(load_cloud_config(config), migrate=False)
    results = []
    try:
        [home_id] = make_homes(services, 1)
        view = services.staff.staff_for_token(
            services.staff.sign_in(
                name := f"bench-wm-{secrets.token_hex(3)}",
                PASSWORD,
                pyotp.TOTP(services.staff.create(name, PASSWORD, "reviewer").totp_secret).now(),
                "bench",
            )
        )
        for clip_name in args.clips:
            path = DATASETS / clip_name
            with av.open(str(path)) as container:
                stream = container.streams.video[0]
                seconds = float(container.duration or 0) / 1e6
                size = f"{stream.codec_context.width}x{stream.codec_context.height}"
            [donation_id] = queue_rows(services.database, home_id, 1)
            blob = seal_to_program(services.program_keys.program(), donation_id, path.read_bytes())
            key = f"review/{donation_id}"
            services.store.put(key, blob)
            with services.database.session() as session:
                row = session.get(ReviewDonation, donation_id)
                assert row is not None
                row.object_key, row.size, row.key_id = key, len(blob), services.program_keys.current().key_id
            assignment = services.workbench.next(view)
            timings = []
            for _ in range(args.watermark_runs):
                began = time.perf_counter()
                link = services.workbench.request_media(view, assignment.id)
                timings.append(time.perf_counter() - began)
                services.workbench.redeem(view, link.token)
            best, median = min(timings), statistics.median(timings)
            results.append(
                {
                    "clip": clip_name,
                    "size": size,
                    "video_s": round(seconds, 1),
                    "best_s": round(best, 2),
                    "median_s": round(median, 2),
                    "clips_per_minute": round(60 / median, 1),
                    "video_s_per_s": round(seconds / median, 2),
                }
            )
            services.workbench.label(
                view, assignment.id, Labels(verdict="real_event", cause=None, label="person", boxes=[])
            )
    finally:
        services.close()
    return results


def main() -> None:
    """Run both measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviewers", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10, help="next+label rounds per reviewer")
    parser.add_argument(
        "--think-seconds", type=float, default=0.0, help="mean pause after labelling, as a reviewer watching (0: none)"
    )
    parser.add_argument(
        "--arrival-spread",
        type=float,
        default=0.0,
        help="reviewers start at random moments within this many seconds (0: all at once, the worst case)",
    )
    parser.add_argument("--homes", type=int, default=40)
    parser.add_argument("--per-home", type=int, default=25, help="queued donations per home")
    parser.add_argument("--api-processes", type=int, default=1)
    parser.add_argument("--watermark-runs", type=int, default=3)
    parser.add_argument(
        "--media", action="store_true", help="each reviewer also asks for the media link after `next` (a real worker)"
    )
    parser.add_argument("--media-clip", default=DEFAULT_CLIPS[0], help="the clip every queued copy holds (--media)")
    parser.add_argument("--watermark-wait", type=int, default=60, help="review.watermark_wait_seconds (--media)")
    parser.add_argument("--clips", nargs="*", default=list(DEFAULT_CLIPS))
    parser.add_argument("--skip-watermark", action="store_true")
    parser.add_argument("--skip-next", action="store_true")
    parser.add_argument(
        "--sequential", type=int, default=0, help="also time this many `next` one at a time in-process (0: no)"
    )
    args = parser.parse_args()
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores, load {load_average()}"
    )
    with tempfile.TemporaryDirectory() as temporary:
        if not args.skip_next:
            with fresh_postgres_database() as database_url:
                latency = next_clip_latency(args, Path(temporary), database_url)
            print("next clip:", latency, f"(load {load_average()})")
        if args.sequential:
            with fresh_postgres_database() as database_url:
                sequential = next_in_process(args, Path(temporary), database_url)
            print("next in-process:", sequential, f"(load {load_average()})")
        if not args.skip_watermark:
            # A database of its own: the next-clip run's queue would come before the clips measured here.
            with fresh_postgres_database() as database_url:
                for result in watermark_throughput(args, Path(temporary), database_url):
                    print("watermark:", result, f"(load {load_average()})")


if __name__ == "__main__":
    main()
