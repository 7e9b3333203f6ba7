"""Video: sources (PyAV), the pre-roll buffer and the clip writer."""
