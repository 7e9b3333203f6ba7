"""Find faces in photos and in the upper part of a person's box, and embed them."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from homewarden.faces.dlib_models import Embedding, FaceModels, RGBImage, load_face_models

Box = tuple[int, int, int, int]
BGRImage = npt.NDArray[np.uint8]

# Photos are searched on a copy at most this large: HOG's cost grows with the pixels, and a face smaller than
# 40 px at this size (after one upsampling) is too small to enrol or identify anyway.
MAX_PHOTO_SIDE = 1024
PHOTO_UPSAMPLE = 1
# The head region of a person is scaled to about this width before HOG runs with one upsampling (faces from
# 40 px): small regions are enlarged so distant faces are found, large ones shrunk so a close-up costs no more.
HEAD_REGION_WIDTH = 240
MAX_HEAD_REGION_SCALE = 3.0
MIN_HEAD_REGION_SCALE = 0.25
VIEW_UPSAMPLE = 1


@dataclass(frozen=True)
class FoundFace:
    """A face: where it is (x1 y1 x2 y2, in the image it was searched in), how sure HOG is, its embedding."""

    box: Box
    score: float
    embedding: Embedding

    @property
    def width(self) -> int:
        """Return the face box's width in pixels."""
        return self.box[2] - self.box[0]


def head_region(box: tuple[float, float, float, float], frame_size: tuple[int, int]) -> Box:
    """Return the part of a person's box where the face is, with a margin, inside the frame.

    A walking person's box is about three times as tall as wide and the head is at the top; a close-up's
    box is mostly head. So the region reaches down 1.2 box widths, at least 45 % of the height, at most all of it.
    """
    x1, y1, x2, y2 = box
    width, height = x2 - x1, y2 - y1
    depth = min(height, max(1.2 * width, 0.45 * height))
    margin_x, margin_y = 0.15 * width, 0.1 * depth
    frame_w, frame_h = frame_size
    return (
        max(0, int(x1 - margin_x)),
        max(0, int(y1 - margin_y)),
        min(frame_w, int(np.ceil(x2 + margin_x))),
        min(frame_h, int(np.ceil(y1 + depth))),
    )


class FaceFinder:
    """Find and embed faces with dlib's HOG detector and ResNet embedding."""

    def __init__(self, models: FaceModels | None = None) -> None:
        self.models = models or load_face_models()

    def in_photo(self, rgb: RGBImage) -> list[FoundFace]:
        """Return every face in a photo, boxes in the photo's own pixels, largest first."""
        scale = min(1.0, MAX_PHOTO_SIDE / max(rgb.shape[:2]))
        small = rgb if scale == 1.0 else resize(rgb, scale)
        found = []
        for (x1, y1, x2, y2), score in self.models.detect(small, PHOTO_UPSAMPLE):
            box = clip_box(scale_box((x1, y1, x2, y2), 1 / scale), rgb)
            if box[2] - box[0] < 2 or box[3] - box[1] < 2:
                continue
            # Embedding at full resolution: the landmarks land better on more pixels.
            found.append(FoundFace(box, score, self.models.embed(rgb, box)))
        return sorted(found, key=lambda face: face.width, reverse=True)

    def in_head_region(self, crop: BGRImage, origin: tuple[int, int]) -> FoundFace | None:
        """Return the largest face in a person's head region (BGR), its box in frame pixels, or None."""
        height, width = crop.shape[:2]
        if width < 8 or height < 8:
            return None
        rgb = np.ascontiguousarray(crop[:, :, ::-1])
        scale = min(MAX_HEAD_REGION_SCALE, max(MIN_HEAD_REGION_SCALE, HEAD_REGION_WIDTH / width))
        searched = rgb if scale == 1.0 else resize(rgb, scale)
        faces = self.models.detect(searched, VIEW_UPSAMPLE)
        if not faces:
            return None
        # One person, one face: a second, smaller face in the region belongs to someone standing behind.
        box, score = max(faces, key=lambda item: item[0][2] - item[0][0])
        # A large region is searched shrunk (cheaper) but embedded at full size (more detail for the landmarks).
        if scale < 1.0:
            embedding = self.models.embed(rgb, clip_box(scale_box(box, 1 / scale), rgb))
        else:
            embedding = self.models.embed(searched, clip_box(box, searched))
        x1, y1, x2, y2 = scale_box(box, 1 / scale)
        ox, oy = origin
        return FoundFace((ox + x1, oy + y1, ox + x2, oy + y2), score, embedding)


def resize(image: RGBImage, scale: float) -> RGBImage:
    """Scale an image by a factor."""
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    return np.ascontiguousarray(cv2.resize(image, size, interpolation=interpolation), dtype=np.uint8)


def scale_box(box: Box, factor: float) -> Box:
    """Scale a box's coordinates by a factor."""
    x1, y1, x2, y2 = box
    return round(x1 * factor), round(y1 * factor), round(x2 * factor), round(y2 * factor)


def clip_box(box: Box, image: RGBImage) -> Box:
    """Clip a box to an image."""
    height, width = image.shape[:2]
    return (max(0, box[0]), max(0, box[1]), min(width, box[2]), min(height, box[3]))
