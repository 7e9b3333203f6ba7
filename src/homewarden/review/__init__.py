"""The review program: its key, the reviewer queue with quotas, labels, and the single-use media links."""
