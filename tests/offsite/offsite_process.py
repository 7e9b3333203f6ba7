"""Run a hub's off-site worker alone in a process of its own, until SIGTERM (or SIGKILL, in the tests that kill it).

    python tests/offsite/offsite_process.py STORAGE_FOLDER '{"bandwidth_limit": 1048576}'

It builds exactly what `homewarden run` builds for the off-site copies (the storage folder, the event database in it,
OffsiteSync) and logs to standard error, so a test can read "resuming ... part(s) arrived before".
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from pathlib import Path

from homewarden.config.model import OffsiteConfig
from homewarden.offsite.identity import OffsiteFolder
from homewarden.offsite.sync import OffsiteSync
from homewarden.store.database import EventStore
from homewarden.store.sealed_media import open_hub_storage


def main() -> None:
    """Drain the outbox of the storage folder given until told to stop."""
    folder = Path(sys.argv[1])
    config = OffsiteConfig.model_validate(json.loads(sys.argv[2]) if len(sys.argv) > 2 else {})
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
    events = EventStore.open(f"sqlite:///{folder / 'homewarden.db'}")
    sync = OffsiteSync(OffsiteFolder(folder), open_hub_storage(folder), events, config, home_id=1)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    sync.start()
    print("offsite worker running", file=sys.stderr, flush=True)
    stop.wait()
    sync.stop()
    events.close()


if __name__ == "__main__":
    main()
