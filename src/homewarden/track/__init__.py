"""Object tracking across frames."""

from homewarden.track.bytetrack import ObjectTracker, TrackedDetection

__all__ = ["ObjectTracker", "TrackedDetection"]
