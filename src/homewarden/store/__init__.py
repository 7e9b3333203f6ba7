"""Where finished events, their clips and snapshots are kept (`database.EventStore`), and how media is sealed.

Nothing is imported here: the cloud uses `store.crypto` and `store.durable_files` alone and must not load the hub's
tables to do so.
"""
