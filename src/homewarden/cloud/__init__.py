"""Homewarden Cloud, the provider's side: off-site copies of sealed objects for many homes, which it cannot read."""
