"""Benchmark sealed (encrypted) clip storage against plain file I/O of the same bytes.

For each clip size: write through the plain media folder (temporary file, one write, fsync, rename), through a
plain blob store in 64 KiB writes (the same steps, the same write sizes as sealing, no encryption), and through the
sealed media folder (fresh data key, AES-256-GCM in 64 KiB chunks, sealed key, both files fsynced); read the whole
clip back; and read a 1 MiB range of the sealed clip as an HTTP range request would. Reads come from the page
cache for both. Also times the passphrase unlock (Argon2id with the default parameters). Not a test: run it a few
times and record the medians in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from homewarden.store.blobs import LocalFolderBlobStore
from homewarden.store.crypto import DEFAULT_CHUNK_SIZE, encrypt_object, new_data_key
from homewarden.store.keys import HomeKeyFile
from homewarden.store.media import MediaFolder
from homewarden.store.sealed_media import open_hub_storage

REPO = Path(__file__).resolve().parents[1]
CAR = REPO.parent / "shared" / "datasets" / "video" / "car-detection.mp4"
PASSPHRASE = "benchmark passphrase, not a secret"
MEGABYTE = 1_000_000


def clip_payloads() -> dict[str, bytes]:
    """Return real MP4 bytes: the 30 s car footage as it is, and repeated to a 30 s 1080p clip's size (15 MB)."""
    car = CAR.read_bytes()
    return {
        f"car-detection.mp4 ({len(car) / MEGABYTE:.1f} MB)": car,
        "15 MB (car footage repeated; 30 s at 4 Mbit/s)": (car * 6)[: 15 * MEGABYTE],
    }


def median_seconds(action: Callable[[int], object], repeats: int) -> float:
    """Return the median wall time of ``action(i)`` over ``repeats`` runs."""
    return paired_median_seconds([action], repeats)[0]


def paired_median_seconds(actions: list[Callable[[int], object]], repeats: int) -> list[float]:
    """Time each action in turn, round after round, so drifts of the disk and cache hit them alike."""
    times: list[list[float]] = [[] for _ in actions]
    for index in range(repeats):
        for action, taken in zip(actions, times, strict=True):
            started = time.perf_counter()
            action(index)
            taken.append(time.perf_counter() - started)
    return [statistics.median(taken) for taken in times]


def bench_payload(label: str, data: bytes, folder: Path, repeats: int) -> list[str]:
    """Return the table rows for one clip size."""
    plain = MediaFolder(folder / "plain")
    chunked = LocalFolderBlobStore(folder / "chunked")
    pieces = [data[offset : offset + DEFAULT_CHUNK_SIZE] for offset in range(0, len(data), DEFAULT_CHUNK_SIZE)]
    storage = open_hub_storage(folder / "sealed")
    keyring = storage.key_file.unlock(PASSPHRASE)
    plain_paths = [plain.path_for("bench", f"clip{index}", "-1.mp4") for index in range(repeats)]
    sealed_paths = [storage.media.path_for("bench", f"clip{index}", "-1.mp4") for index in range(repeats)]
    names = [storage.media.object_name(path) or "" for path in sealed_paths]

    # A first write of each kind creates the folders; it is not what a recording hub does all day.
    plain.write_atomically(plain.path_for("bench", "warm-up", ".mp4"), data)
    storage.media.write_atomically(storage.media.path_for("bench", "warm-up", ".mp4"), data)
    write_plain, write_chunked, write_sealed = paired_median_seconds(
        [
            lambda i: plain.write_atomically(plain_paths[i], data),
            lambda i: chunked.put(f"bench/clip{i}.mp4", pieces),
            lambda i: storage.media.write_atomically(sealed_paths[i], data),
        ],
        repeats,
    )
    read_plain, read_chunked, read_sealed = paired_median_seconds(
        [
            lambda i: plain_paths[i].read_bytes(),
            lambda i: chunked.get(f"bench/clip{i}.mp4"),
            lambda i: storage.vault.read(names[i], keyring),
        ],
        repeats,
    )
    encrypt_only = median_seconds(
        lambda i: b"".join(encrypt_object(new_data_key(), names[i], [data], DEFAULT_CHUNK_SIZE)), repeats
    )
    offsets = random.Random(1)
    range_read = median_seconds(
        lambda i: storage.vault.open(names[i], keyring).read(start := offsets.randrange(len(data)), start + 2**20),
        repeats,
    )
    assert storage.vault.read(names[0], keyring) == data

    def rate(seconds: float) -> str:
        return f"{len(data) / MEGABYTE / seconds:,.0f} MB/s ({seconds * 1000:.1f} ms)"

    return [
        f"| {label} | write | {rate(write_plain)} | {rate(write_chunked)} | {rate(write_sealed)} |",
        f"| {label} | read whole clip | {rate(read_plain)} | {rate(read_chunked)} | {rate(read_sealed)} |",
        f"| {label} | read 1 MiB range | – | – | {range_read * 1000:.2f} ms |",
        f"| {label} | encrypt in memory only | – | – | {rate(encrypt_only)} |",
    ]


def main() -> None:
    """Print a Markdown table of plain against sealed throughput."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15, help="runs per measurement (median reported)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="homewarden-bench-") as temp:
        folder = Path(temp)
        key_file = HomeKeyFile.in_folder(folder / "sealed")
        started = time.perf_counter()
        key_file.create(PASSPHRASE)
        create_seconds = time.perf_counter() - started
        unlock_seconds = median_seconds(lambda _i: key_file.unlock(PASSPHRASE), 5)
        print("| clip | operation | plain, one write | plain, 64 KiB writes | sealed |")
        print("|---|---|---|---|---|")
        for label, data in clip_payloads().items():
            for row in bench_payload(label, data, folder, args.repeats):
                print(row)
        print()
        print(f"keys init (Argon2id 64 MiB, t=3, p=4, plus key generation): {create_seconds * 1000:.0f} ms")
        print(f"unlock with the passphrase (median of 5): {unlock_seconds * 1000:.0f} ms")


if __name__ == "__main__":
    main()
