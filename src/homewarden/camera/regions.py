"""Where to run the detector: merge nearby motion into regions, and cut square crops around them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Box = tuple[float, float, float, float]

# DESIGN.md: NanoDet finds people reliably in square crops around motion at least 240 px wide and 1.2 times
# the motion box, and poorly on whole wide frames.
MIN_CROP_SIDE = 240
CROP_GROWTH = 1.2
MERGE_MARGIN = 20
# Motion that is small against the frame (its crop would be the minimum side) is looked at in the camera's full
# resolution frame when the camera sends more pixels than the detect size: the same 240 px square (1.2 x the motion)
# counted in the camera's own pixels, so a person 40 px tall at detect size on a 1080p camera analysed at 1280 is
# 60 px in it, with real detail instead of an upscaled picture. Tighter crops (160 px, 1.6 x) were tried on the shared
# real footage, all analysed at its own size: the parking lot lost both its visits and the aerial crossing's
# pedestrians became dogs (docs/benchmarks.md), so a camera analysed at its own size keeps the crops it had.
FINE_MIN_SIDE = MIN_CROP_SIDE
FINE_GROWTH = CROP_GROWTH
# A fine crop wider than this at full resolution (a 4K camera analysed at 1280) would be shrunk to the detector's
# input again: it is cut into square tiles of this side instead, at most FINE_MAX_TILES a side, else the region is
# looked at in the detect frame as before (such motion is not small).
FINE_TILE_SIDE = 640
FINE_MAX_TILES = 2
# A crop that takes in part of a known person takes in all of them: cut at its edge, a visitor's half is scored
# `person` 0.5 and replaces their box (the one-by-one clip at 24.3 s, docs/benchmarks.md crop16). The crop is cut
# around the motion and the whole box instead, unless that makes it more than this many times its side, in which
# case it stays as it was (a distant mover beside someone near the camera would shrink out of the detector's reach).
WHOLE_MAX_GROWTH = 2.0

# A box ending this close to an edge of its crop (in the crop's pixels) touches it: the detector's box is clipped to
# the crop, and ends a pixel or two short of it (the one-by-one clip's fifth visitor, cut at the waist by the bottom of
# a 240 px crop: a box ending at 239).
CUT_MARGIN = 2.0


@dataclass(frozen=True)
class Crop:
    """A square of the picture for the detector: in detect-frame pixels, or in the camera's full-resolution frame."""

    box: tuple[int, int, int, int]
    full: bool = False


def union(a: Box, b: Box) -> Box:
    """Return the smallest box holding both."""
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def overlaps(a: Box, b: Box, margin: float = 0.0) -> bool:
    """Tell whether two boxes overlap once grown by a margin."""
    return a[0] - margin < b[2] and b[0] - margin < a[2] and a[1] - margin < b[3] and b[1] - margin < a[3]


def contains(outer: Box, inner: Box) -> bool:
    """Tell whether one box lies inside another."""
    return outer[0] <= inner[0] and outer[1] <= inner[1] and outer[2] >= inner[2] and outer[3] >= inner[3]


def grow(box: Box, factor: float) -> Box:
    """Scale a box about its centre."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half_w, half_h = (box[2] - box[0]) * factor / 2, (box[3] - box[1]) * factor / 2
    return (cx - half_w, cy - half_h, cx + half_w, cy + half_h)


def merge_boxes(boxes: list[Box], margin: float = MERGE_MARGIN) -> list[Box]:
    """Merge boxes that overlap (within a margin) until none do."""
    merged = list(boxes)
    changed = True
    while changed:
        changed = False
        result: list[Box] = []
        for box in merged:
            for index, other in enumerate(result):
                if overlaps(box, other, margin):
                    result[index] = union(box, other)
                    changed = True
                    break
            else:
                result.append(box)
        merged = result
    return merged


def crop_for(box: Box, frame_size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Return a square crop (x1 y1 x2 y2) around a region, inside the frame where it fits."""
    width, height = frame_size
    side = max(MIN_CROP_SIDE, CROP_GROWTH * max(box[2] - box[0], box[3] - box[1]))
    side = min(side, max(width, height))
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    crop_w, crop_h = min(side, width), min(side, height)
    x1 = min(max(0.0, cx - crop_w / 2), width - crop_w)
    y1 = min(max(0.0, cy - crop_h / 2), height - crop_h)
    return round(x1), round(y1), round(x1 + crop_w), round(y1 + crop_h)


def fine_crops(region: Box, frame_size: tuple[int, int], full_size: tuple[int, int]) -> list[Crop] | None:
    """Return full-resolution crops (tiles if needed) around a small region, or None when it is too large for them."""
    scale = full_size[0] / frame_size[0]
    full_region = (region[0] * scale, region[1] * scale, region[2] * scale, region[3] * scale)
    side = max(FINE_MIN_SIDE, FINE_GROWTH * max(full_region[2] - full_region[0], full_region[3] - full_region[1]))
    if side <= FINE_TILE_SIDE:
        return [Crop(square_in(full_region, side, full_size), full=True)]
    count = math.ceil(side / FINE_TILE_SIDE)
    if count > FINE_MAX_TILES:
        return None
    x1, y1, x2, y2 = square_in(full_region, side, full_size)
    step_x = (x2 - x1 - FINE_TILE_SIDE) / (count - 1)
    step_y = (y2 - y1 - FINE_TILE_SIDE) / (count - 1)
    tiles = []
    for j in range(count):
        for i in range(count):
            tx, ty = round(x1 + i * step_x), round(y1 + j * step_y)
            tiles.append(Crop((tx, ty, min(tx + FINE_TILE_SIDE, x2), min(ty + FINE_TILE_SIDE, y2)), full=True))
    return tiles


def square_in(box: Box, side: float, frame_size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Return a square of this side centred on a box, moved (and cut) to fit inside the frame."""
    width, height = frame_size
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    crop_w, crop_h = min(side, width), min(side, height)
    x1 = min(max(0.0, cx - crop_w / 2), width - crop_w)
    y1 = min(max(0.0, cy - crop_h / 2), height - crop_h)
    return round(x1), round(y1), round(x1 + crop_w), round(y1 + crop_h)


def plan_detection(
    regions: list[Box],
    frame_size: tuple[int, int],
    full_size: tuple[int, int] | None = None,
    whole: Sequence[Box] = (),
) -> list[Crop]:
    """Turn regions into crops: small ones from the full-resolution frame, the rest as plan_crops does."""
    full_size = full_size or frame_size
    if full_size[0] <= frame_size[0]:
        return [Crop(box) for box in plan_crops(regions, frame_size, whole)]
    coarse: list[Box] = []
    fine: list[Crop] = []
    tiled: list[list[Crop]] = []
    for region in merge_boxes(regions):
        small = CROP_GROWTH * max(region[2] - region[0], region[3] - region[1]) < MIN_CROP_SIDE
        crops = fine_crops(region, frame_size, full_size) if small else None
        if crops is None:
            coarse.append(region)
        elif len(crops) == 1:
            fine.append(crops[0])
        else:
            tiled.append(crops)
    # Two fine crops that mostly cover each other (two limbs of one walker) are one crop around both.
    merged: list[Crop] = []
    for crop in fine:
        for index, other in enumerate(merged):
            if overlap_fraction(crop.box, other.box) > 0.5:
                joined = union(crop.box, other.box)
                side = max(joined[2] - joined[0], joined[3] - joined[1])
                merged[index] = Crop(square_in(joined, side, full_size), full=True)
                break
        else:
            merged.append(crop)
    planned = [Crop(box) for box in plan_crops(coarse, frame_size, whole)]
    # Fine crops cost no more places to look than the detect-frame crops would (a region's tiles count as one place:
    # they are what a large full-resolution region needs): a scene full of small movers (fish in a tank, leaves)
    # is looked at in the fewer, larger crops of before.
    fallback = plan_crops(regions, frame_size, whole)
    if len(planned) + len(merged) + len(tiled) > len(fallback):
        return [Crop(box) for box in fallback]
    return planned + merged + [tile for tiles in tiled for tile in tiles]


def plan_crops(
    regions: list[Box], frame_size: tuple[int, int], whole: Sequence[Box] = ()
) -> list[tuple[int, int, int, int]]:
    """Turn regions into crops, merging crops that mostly cover each other; cut no whole box no crop takes in."""
    planned = merged_crops([(crop_for(region, frame_size), region) for region in merge_boxes(regions)], frame_size)
    width, height = frame_size
    inside = [(max(0.0, b[0]), max(0.0, b[1]), min(float(width), b[2]), min(float(height), b[3])) for b in whole]
    # A person that one crop takes in whole is seen whole there (two people side by side, each looked at in a crop of
    # their own, cut each other's edges): growing the crop beside them would only shrink both in the detector's input.
    loose = [box for box in inside if not any(contains(crop, box) for crop, _ in planned)]
    if not loose:
        return [crop for crop, _ in planned]
    grown = [uncut_crop(crop, region, frame_size, loose) for crop, region in planned]
    return [crop for crop, _ in merged_crops(grown, frame_size)]


def merged_crops(
    crops: list[tuple[tuple[int, int, int, int], Box]], frame_size: tuple[int, int]
) -> list[tuple[tuple[int, int, int, int], Box]]:
    """Merge crops (each with the region it was cut around) that mostly cover each other."""
    # Two crops that overlap heavily cost two detector calls for nearly the same pixels: they become one. When what
    # they were cut for fits in one crop of the minimum side (small movers near each other), that crop is cut around
    # both regions; cut around the union of the two crops, it grew by CROP_GROWTH at each merge (two 240 px crops for
    # two people 100 px apart became a 402x360 px one) and a distant person 9x25 px in it shrank out of the detector's
    # reach (the parking lot's pedestrian, docs/benchmarks.md). Larger crops merge around the two crops as before: cut
    # tighter around a visitor near the camera, they split a visit of the one-by-one clip into two events.
    merged: list[tuple[tuple[int, int, int, int], Box]] = []
    for crop, region in crops:
        for index, (other, other_region) in enumerate(merged):
            if overlap_fraction(crop, other) > 0.5:
                joined = union(region, other_region)
                around = crop_for(joined, frame_size)
                small = around[2] - around[0] <= MIN_CROP_SIDE and around[3] - around[1] <= MIN_CROP_SIDE
                merged[index] = (around if small else crop_for(union(crop, other), frame_size), joined)
                break
        else:
            merged.append((crop, region))
    return merged


def uncut_crop(
    crop: tuple[int, int, int, int], region: Box, frame_size: tuple[int, int], whole: Sequence[Box]
) -> tuple[tuple[int, int, int, int], Box]:
    """Return a crop grown to take in every whole box it cuts, and the region it is cut around, or it as it was."""
    grown, around = region, crop
    # Each growth can cut another box; there are never more rounds than boxes.
    for _ in range(len(whole)):
        cut = [box for box in whole if overlaps(box, around) and not contains(around, box)]
        if not cut:
            break
        for box in cut:
            grown = union(grown, box)
        around = crop_for(grown, frame_size)
    if any(overlaps(box, around) and not contains(around, box) for box in whole):
        return crop, region
    if max(around[2] - around[0], around[3] - around[1]) > WHOLE_MAX_GROWTH * max(crop[2] - crop[0], crop[3] - crop[1]):
        return crop, region
    return around, grown


def overlap_fraction(a: Box, b: Box) -> float:
    """Return the intersection as a fraction of the smaller box."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / smaller if smaller > 0 else 0.0


def sweep_tiles(frame_size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """Cover the whole frame with as few square tiles as fit its short side, overlapping evenly."""
    width, height = frame_size
    side = min(width, height)
    count_x, count_y = -(-width // side), -(-height // side)
    step_x = (width - side) / (count_x - 1) if count_x > 1 else 0
    step_y = (height - side) / (count_y - 1) if count_y > 1 else 0
    return [
        (round(i * step_x), round(j * step_y), round(i * step_x) + side, round(j * step_y) + side)
        for j in range(count_y)
        for i in range(count_x)
    ]


def cut_by_crop(box: Box, crop: tuple[int, int, int, int], picture_size: tuple[int, int]) -> bool:
    """Tell whether a box (in the crop's pixels) touches an edge of its crop that is not an edge of the picture."""
    width, height = crop[2] - crop[0], crop[3] - crop[1]
    return (
        (crop[0] > 0 and box[0] <= CUT_MARGIN)
        or (crop[1] > 0 and box[1] <= CUT_MARGIN)
        or (crop[2] < picture_size[0] and box[2] >= width - CUT_MARGIN)
        or (crop[3] < picture_size[1] and box[3] >= height - CUT_MARGIN)
    )
