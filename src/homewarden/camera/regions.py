"""Where to run the detector: merge nearby motion into regions, and cut square crops around them."""

from __future__ import annotations

Box = tuple[float, float, float, float]

# DESIGN.md: NanoDet finds people reliably in square crops around motion at least 240 px wide and 1.2 times
# the motion box, and poorly on whole wide frames.
MIN_CROP_SIDE = 240
CROP_GROWTH = 1.2
MERGE_MARGIN = 20


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


def plan_crops(regions: list[Box], frame_size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """Turn regions into crops, merging crops that mostly cover each other."""
    crops = [crop_for(region, frame_size) for region in merge_boxes(regions)]
    # Two crops that overlap heavily cost two detector calls for nearly the same pixels.
    result: list[tuple[int, int, int, int]] = []
    for crop in crops:
        for index, other in enumerate(result):
            if overlap_fraction(crop, other) > 0.5:
                result[index] = crop_for(union(crop, other), frame_size)
                break
        else:
            result.append(crop)
    return result


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
