"""Training from consented labels: datasets with provenance, the false-alarm verifier, deterministic retraining."""
