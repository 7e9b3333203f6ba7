"""The hub's side of the review program run by Homewarden Cloud: the pinned program key, sealing donated copies to
it, and checking the cloud's signed receipts and checkpoints.

Nothing here talks to the cloud (offsite/ does) or holds a private key: the program's private key exists only in
the cloud.
"""
