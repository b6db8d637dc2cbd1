"""Snapshots stored on a thread of their own, so that no command waits for one.

A snapshot holds a whole aggregate: for a project with a thousand supervision notes that is hundreds of KB, which
PostgreSQL compresses as it stores it — several milliseconds, against a fraction of one for the command's events.
Stored on the committing thread, that time was added to every command of the group that happened to reach a
multiple of the interval (and clients writing at one pace reach it together): bench_http's p99 with 16 clients
was 29–33 ms without snapshots and 36–37 ms with them.

The snapshot is encoded on the committing thread, while its aggregate is still locked and at the version it
records: the aggregate's lists and dicts are shared with the live object, which the next command changes. Only the
encoded bytes cross to this thread. A snapshot that fails to store is logged and dropped — it only makes a later
load faster; loads replay from the previous snapshot, or from the first event, until the next one is stored.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter
from collections.abc import Sequence
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, StoredEvent

from ledger.log.checkpoint import SigningKey, VerifierKey
from ledger.log.integrity import snapshot_message

logger = logging.getLogger(__name__)

UNSIGNED = "unsigned"  # no authenticator: taken before snapshots were authenticated, or written by someone else
UNKNOWN_KEY = "unknown-key"  # signed by a key this ledger does not trust
INVALID = "invalid"  # the signature does not verify: the snapshot, its version or the history before it changed
NO_EVENT = "no-event"  # the log holds no event at the snapshot's version


class SnapshotAuthenticator:
    """Signs snapshots with the log's Ed25519 key (:func:`ledger.integrity.snapshot_message`) and checks them
    against the keys the ledger trusts; counts and logs every snapshot it refuses.

    A signature (rather than a MAC) so that anyone holding the published verifier key — ``jixiao verify``, an
    auditor — can check every snapshot too. The key is the one that signs checkpoints, kept out of the database.
    """

    def __init__(self, key: SigningKey | None, trusted: Sequence[VerifierKey] = ()) -> None:
        self.key = key
        keys = [*trusted, *([key.verifier] if key is not None else [])]
        self._trusted = {verifier.key_id: verifier for verifier in keys}
        self._lock = threading.Lock()
        self.rejected: Counter[str] = Counter()  # by reason, since start (read by /metrics)

    def sign(self, stored: StoredEvent, chain_hash: bytes) -> bytes:
        """The authenticator of a snapshot: the key's 4-byte ID, then its Ed25519 signature."""
        if self.key is None:
            raise ValueError("no signing key: snapshots cannot be authenticated")
        assert isinstance(stored.originator_id, UUID)
        message = snapshot_message(
            stored.originator_id, stored.originator_version, stored.topic, stored.state, chain_hash
        )
        return self.key.verifier.key_id + self.key.sign(message)

    def check(self, stored: StoredEvent, chain_hash: bytes | None, authenticator: bytes | None) -> str | None:
        """None if the snapshot is authentic; else why not (one of the reasons above)."""
        if authenticator is None:
            return UNSIGNED
        if chain_hash is None:
            return NO_EVENT
        key = self._trusted.get(authenticator[:4])
        if key is None:
            return UNKNOWN_KEY
        assert isinstance(stored.originator_id, UUID)
        message = snapshot_message(
            stored.originator_id, stored.originator_version, stored.topic, stored.state, chain_hash
        )
        return None if len(authenticator) == 68 and key.verify(message, authenticator[4:]) else INVALID

    def reject(self, stored: StoredEvent, reason: str) -> None:
        with self._lock:
            self.rejected[reason] += 1
        logger.warning(
            "snapshot of %s at version %d ignored (%s): the aggregate is replayed from its events instead",
            stored.originator_id,
            stored.originator_version,
            reason,
        )


class SnapshotWriter:
    def __init__(self, recorder: AggregateRecorder, *, name: str = "jixiao-snapshots") -> None:
        self._recorder = recorder
        self._name = name
        self._queue: queue.Queue[list[StoredEvent] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def put(self, snapshots: Sequence[StoredEvent]) -> None:
        """Store these encoded snapshots soon, in one transaction."""
        if not snapshots:
            return
        with self._start_lock:
            if self._thread is None:  # started by the first snapshot: most ledgers (a CLI call, a test) never need it
                self._thread = threading.Thread(target=self._work, name=self._name, daemon=True)
                self._thread.start()
        self._queue.put(list(snapshots))

    def wait(self) -> None:
        """Return when every snapshot put so far has been stored (or has failed and been logged)."""
        self._queue.join()

    def close(self, timeout: float = 10.0) -> None:
        """Store what is queued, then stop the thread."""
        with self._start_lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._recorder.insert_events(item)
            except Exception:
                logger.exception("storing %d snapshot(s) failed; loads replay from the one before", len(item or []))
            finally:
                self._queue.task_done()
