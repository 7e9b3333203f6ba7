"""Off-site copies: the hub's sealed footage and event records sent to a Homewarden Cloud that cannot read them.

`identity.py` the hub's device key and its pairing, `client.py` the only code that talks to the cloud (signed
requests, docs/cloud-protocol.md), `sealing.py` what the cloud is sent (object ids, sealed event records),
`outbox.py` the persistent queue, `sync.py` the worker thread that drains it, `restore.py` a new hub brought back.
"""
