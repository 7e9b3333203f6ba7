"""Night and infrared pictures: tell a colourless frame, and even out its contrast before the detector sees it."""

from __future__ import annotations

from typing import cast

import cv2
import numpy as np

from homewarden.detect.base import Image

# A camera in infrared mode sends grey frames (often still as colour video): the frame is grey when nearly all of a
# sparse grid of pixels (all but GREY_OUTLIERS of them) have their channels within GREY_CHANNEL_SPREAD levels of each
# other. Compression leaves a few levels of chroma; a grey room with one coloured coat in it is not grey.
GREY_CHANNEL_SPREAD = 8
GREY_OUTLIERS = 0.005
GREY_SAMPLE_STEP = 8
# Contrast-limited equalisation in tiles of about 60 px: a dark, flat infrared picture gets local contrast back
# without the sensor noise of its black areas being stretched to full range (the clip limit).
CLAHE_CLIP = 2.0
CLAHE_TILE_PX = 60


def is_grey(image: Image) -> bool:
    """Tell whether a BGR frame carries no colour (an infrared or monochrome camera)."""
    sample = image[::GREY_SAMPLE_STEP, ::GREY_SAMPLE_STEP].astype(np.int16)
    blue, green, red = sample[..., 0], sample[..., 1], sample[..., 2]
    spread = np.maximum(np.abs(blue - green), np.abs(green - red))
    return bool(np.count_nonzero(spread > GREY_CHANNEL_SPREAD) <= GREY_OUTLIERS * spread.size)


def equalised(crop: Image) -> Image:
    """Return a grey crop with its contrast evened out (CLAHE), as three equal channels for the detector."""
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    tiles = max(1, round(min(grey.shape[:2]) / CLAHE_TILE_PX))
    clahe = cv2.createCLAHE(clipLimit=CLAHE_CLIP, tileGridSize=(tiles, tiles))
    return cast(Image, cv2.cvtColor(clahe.apply(grey), cv2.COLOR_GRAY2BGR))
