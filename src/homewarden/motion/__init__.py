"""Motion detection: where in the frame something changed."""

from homewarden.motion.background import BackgroundMotionDetector, Box

__all__ = ["BackgroundMotionDetector", "Box"]
