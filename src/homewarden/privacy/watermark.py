"""Burn a reviewer's identity and the time into every frame of the copy they are shown.

A semi-transparent band across the top carries the text plainly; the same text repeats faintly along diagonals over
the whole picture, so cropping the band off or filming the screen still shows who watched it. The scene stays
visible: the band darkens what is behind it by half, the diagonal text (white letters in a dark outline, so it
shows on white walls and in dark rooms) is drawn at a fifth of full strength.
"""

from __future__ import annotations

import io
import math
from functools import lru_cache

import av
import av.error
import cv2
import numpy as np
import numpy.typing as npt

from homewarden.privacy.redaction import H264Writer, Image, RedactionError

BAND_ALPHA = 0.5
BAND_TEXT_ALPHA = 0.9
DIAGONAL_ALPHA = 0.2
DIAGONAL_ANGLE = 25.0
FONT = cv2.FONT_HERSHEY_SIMPLEX
# OpenCV's Hershey fonts draw ASCII only; the few typographic characters a label uses get ASCII stand-ins.
ASCII_STAND_INS = str.maketrans({"·": "|", "–": "-", "—": "-", "’": "'", "‘": "'", "“": '"', "”": '"'})

Overlay = tuple[npt.NDArray[np.intp], npt.NDArray[np.uint16], npt.NDArray[np.uint16]]


class WatermarkError(Exception):
    """A clip that could not be watermarked (not a readable video)."""


def burn_watermark(mp4: bytes, text: str) -> bytes:
    """Return the clip re-encoded (H.264 yuv420p, +faststart) with ``text`` burned into every frame."""
    text = ascii_text(text)
    try:
        with av.open(io.BytesIO(mp4), mode="r") as container:
            if not container.streams.video:
                raise WatermarkError("the clip has no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            width, height = stream.codec_context.width, stream.codec_context.height
            width, height = width - width % 2, height - height % 2
            fps = float(stream.average_rate or stream.guessed_rate or 10)
            pixels, colours, alphas = overlay(text, width, height)
            frames = 0
            with H264Writer(width, height, fps, stream.time_base) as writer:
                for index, frame in enumerate(container.decode(stream)):
                    # Contiguous, so `flat` is a view of it: PyAV may hand rows with padding after them (18.1.1 does
                    # for some sizes), and reshaping those makes a copy the watermark would be blended into instead.
                    image: Image = np.ascontiguousarray(frame.to_ndarray(format="bgr24", width=width, height=height))
                    flat = image.reshape(-1)
                    # Blend only the pixels the watermark covers (about a tenth of the picture), in integers.
                    below = flat[pixels].astype(np.uint16)
                    flat[pixels] = ((below * (256 - alphas) + colours * alphas) >> 8).astype(np.uint8)
                    writer.write(image, frame.pts if frame.pts is not None else index, "bgr24")
                    frames += 1
                if frames == 0:
                    raise WatermarkError("the clip has no frames")
                return writer.finish()
    except av.error.FFmpegError as exc:
        raise WatermarkError(f"cannot read the clip: {str(exc).strip().splitlines()[0][:200]}") from None
    except RedactionError as exc:
        raise WatermarkError(str(exc)) from None


def ascii_text(text: str) -> str:
    """Return the text with what OpenCV cannot draw replaced."""
    return text.translate(ASCII_STAND_INS).encode("ascii", "replace").decode("ascii")


@lru_cache(maxsize=8)
def overlay(text: str, width: int, height: int) -> Overlay:
    """Return where the watermark goes (flat indices into a BGR frame), its colours, and its alphas (0..256)."""
    colour = np.zeros((height, width, 3), np.uint8)
    alpha = np.zeros((height, width), np.float32)

    # The band: a dark strip across the top with the text in white.
    scale = max(0.35, height / 900)
    thickness = max(1, round(scale * 2))
    (text_w, text_h), baseline = cv2.getTextSize(text, FONT, scale, thickness)
    band = text_h + baseline + 2 * max(4, text_h // 2)
    alpha[:band] = BAND_ALPHA
    text_layer = np.zeros((height, width), np.uint8)
    cv2.putText(
        text_layer,
        text,
        (max(4, (width - text_w) // 2), band - baseline - max(4, text_h // 2)),
        FONT,
        scale,
        255,
        thickness,
        cv2.LINE_AA,
    )
    band_text = text_layer[:band].astype(np.float32) / 255
    colour[:band][band_text > 0] = 255
    alpha[:band] = np.maximum(alpha[:band], band_text * BAND_TEXT_ALPHA)

    # The diagonals: the text repeated in rows on a square larger than the frame, turned, cut to the frame.
    side = math.ceil(math.hypot(width, height))
    big_scale = max(0.5, height / 600)
    big_thickness = max(1, round(big_scale * 2))
    (big_w, big_h), _ = cv2.getTextSize(text, FONT, big_scale, big_thickness)
    # White letters in a dark outline, so the text shows on white walls and in dark rooms alike.
    outline = np.zeros((side, side), np.uint8)
    letters = np.zeros((side, side), np.uint8)
    step_y = max(big_h * 5, height // 3)
    for row, y in enumerate(range(big_h, side, step_y)):
        for x in range(-(row % 2) * (big_w // 2), side, big_w + big_h * 3):
            cv2.putText(outline, text, (x, y), FONT, big_scale, 255, big_thickness + 2, cv2.LINE_AA)
            cv2.putText(letters, text, (x, y), FONT, big_scale, 255, big_thickness, cv2.LINE_AA)
    turn = cv2.getRotationMatrix2D((side / 2, side / 2), DIAGONAL_ANGLE, 1.0)
    top, left = (side - height) // 2, (side - width) // 2

    def turned(layer: Image) -> npt.NDArray[np.float32]:
        whole = cv2.warpAffine(layer, turn, (side, side))
        part: npt.NDArray[np.float32] = np.asarray(whole[top : top + height, left : left + width], dtype=np.float32)
        part /= 255
        return part

    diagonal = turned(outline) * DIAGONAL_ALPHA
    diagonal[:band] = 0
    white = turned(letters)
    white[:band] = 0
    below_band = slice(band, height)
    colour[below_band][white[below_band] > 0.5] = 255
    colour[below_band][white[below_band] <= 0.5] = 0
    alpha = np.maximum(alpha, diagonal)

    covered = np.flatnonzero(np.repeat((alpha > 0).reshape(-1), 3))
    colours = colour.reshape(-1)[covered].astype(np.uint16)
    alphas = np.repeat(np.round(alpha.reshape(-1)[alpha.reshape(-1) > 0] * 256), 3).astype(np.uint16)
    return covered, colours, alphas
