"""Accounts: who signs in, with which role, and the secrets that prove it."""
