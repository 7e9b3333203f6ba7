"""The cloud's HTTP API: household accounts, pairing, and the signed object routes of hubs."""
