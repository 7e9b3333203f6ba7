"""Cameras: reading a source at the detect rate, analysing frames, recording events, the live view."""
