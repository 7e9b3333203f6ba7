"""The review program's cloud side: the program key, donated copies, the audit chain and its checkpoints."""
