"""Benchmark the web app's media path: a sealed clip served over real HTTP against reading its plain bytes.

A real uvicorn server on loopback serves a real sealed clip (car-detection.mp4 as it is, and repeated to the size of a
30 s 1080p clip). Measured: the whole clip fetched over HTTP (decrypt + stream), a 1 MiB range at random offsets as a
browser seeking asks for it, and the same bytes read from a plain file (the floor: no HTTP, no decryption). Also
the live view's cost: encoding the newest frame as a JPEG, with and without boxes. Not a test: run it a few times and
record the medians in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import random
import socket
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import httpx2 as httpx
import uvicorn

from homewarden.api.app import create_app
from homewarden.camera.live import LiveFrames, LiveObject
from homewarden.camera.reader import Sample
from homewarden.config import HomewardenConfig
from homewarden.events.record import ClipRecord, EventRecord
from homewarden.hub.hub import init_services
from homewarden.store.database import EventStore

REPO = Path(__file__).resolve().parents[1]
CAR = REPO.parent / "shared" / "datasets" / "video" / "car-detection.mp4"
PEOPLE = REPO.parent / "shared" / "datasets" / "video" / "one-by-one-person-detection.mp4"
PASSWORD = "benchmark owner passphrase"
MEGABYTE = 1_000_000
RANGE = 1 << 20


def median_ms(action: Callable[[], object], repeats: int) -> float:
    """Return the median wall time of ``action`` in milliseconds."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def free_port() -> int:
    """Return a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bench_clips(folder: Path, repeats: int) -> None:
    """Serve sealed clips over HTTP and compare with plain reads."""
    config = HomewardenConfig.model_validate(
        {"cameras": {"cam": {"source": str(folder / "none.mp4")}}, "storage": {"folder": str(folder / "data")}}
    )
    store = EventStore.open(config.storage.resolved_database_url())
    services = init_services(config, store, None)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(services), port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    done = client.post("/api/setup", json={"token": services.setup.token, "username": "owner", "password": PASSWORD})
    done.raise_for_status()
    client.cookies.set("hw_session", done.cookies["hw_session"])
    car = CAR.read_bytes()
    payloads = {
        f"car-detection.mp4 ({len(car) / MEGABYTE:.1f} MB)": car,
        "15 MB (car footage repeated; 30 s at 4 Mbit/s)": (car * 6)[: 15 * MEGABYTE],
    }
    print(
        f"{'clip':48} {'plain read':>11} {'HTTP whole':>11} {'MB/s':>6} {'ratio':>6} {'1 MiB range':>12} {'plain':>7}"
    )
    for label, payload in payloads.items():
        media = services.storage.media
        event_id = uuid.uuid4().hex
        path = media.path_for("cam", event_id, ".mp4")
        media.write_atomically(path, payload)
        now = time.time()
        store.save_event(
            EventRecord(
                event_id,
                "cam",
                "car",
                0.9,
                now,
                now + 30,
                True,
                (0, 0, 1, 1),
                None,
                (ClipRecord(str(path), now, now + 30),),
            )
        )
        plain = folder / f"{event_id}.mp4"
        plain.write_bytes(payload)
        url = f"/api/events/{event_id}/clips/0.mp4"
        assert client.get(url).content == payload
        plain_ms = median_ms(plain.read_bytes, repeats)
        whole_ms = median_ms(lambda u=url: client.get(u).content, repeats)
        offsets = [random.randrange(0, len(payload) - RANGE) for _ in range(repeats)]
        ranges = iter(offsets)

        def one_range(u: str = url, starts: Iterator[int] = ranges) -> bytes:
            start = next(starts)
            return client.get(u, headers={"Range": f"bytes={start}-{start + RANGE - 1}"}).content

        range_ms = median_ms(one_range, repeats)
        plain_offsets = iter(offsets)

        def plain_range(p: Path = plain, starts: Iterator[int] = plain_offsets) -> bytes:
            with p.open("rb") as file:
                file.seek(next(starts))
                return file.read(RANGE)

        plain_range_ms = median_ms(plain_range, repeats)
        print(
            f"{label:48} {plain_ms:9.1f}ms {whole_ms:9.1f}ms {len(payload) / MEGABYTE / (whole_ms / 1000):6.0f}"
            f" {whole_ms / plain_ms:5.1f}x {range_ms:10.1f}ms {plain_range_ms:5.2f}ms"
        )
    client.close()
    server.should_exit = True
    thread.join(timeout=10)
    store.close()


def bench_live(repeats: int) -> None:
    """Time the live view's JPEG of a real 768x432 frame, and decoding that frame (the camera's own cost)."""
    with av.open(str(PEOPLE)) as container:
        frames = [frame for _, frame in zip(range(300), container.decode(video=0), strict=False)]
    frame = frames[-1]
    size = (frame.width, frame.height)
    live = LiveFrames()
    objects = [LiveObject("person", 0.87, (300, 40, 460, 400), "unknown")]
    seq = iter(range(10**9))

    def encode(boxes: bool) -> None:
        next(seq)
        live.publish("cam", Sample(0.0, frame, size), objects)  # a new frame: nothing cached
        live.latest_jpeg("cam", boxes=boxes)

    plain = median_ms(lambda: encode(False), repeats)
    boxed = median_ms(lambda: encode(True), repeats)
    cached = median_ms(lambda: live.latest_jpeg("cam", boxes=True), repeats)
    with av.open(str(PEOPLE)) as container:
        started = time.perf_counter()
        count = sum(1 for _ in zip(range(300), container.decode(video=0), strict=False))
        decode = (time.perf_counter() - started) * 1000 / count
    print(
        f"live JPEG {size[0]}x{size[1]}: {plain:.1f} ms, with boxes {boxed:.1f} ms, cached {cached:.3f} ms; "
        f"decoding one frame {decode:.1f} ms -> a viewer at 5 frames/s costs {plain * 5 / 10:.1f}% of a core"
    )


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="homewarden-bench-web-") as folder:
        bench_clips(Path(folder), args.repeats)
    bench_live(args.repeats)


if __name__ == "__main__":
    main()
