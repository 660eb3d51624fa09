"""Live workflows of recently stepped instances, so the next step of an unchanged instance skips deserialization.

An entry is keyed by the instance id and checked against the version it runs on and the exact state JSON it was
dumped to: a step whose stored state differs (another process stepped the instance, a rollback, a migration, a
compaction) misses and reloads. A step takes its entry out while it runs and puts the workflow back only after its
snapshot was written, so a failed step never leaves a half-run workflow behind.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from engine.bpmn.runtime import Workflow

DEFAULT_SIZE = 256


class WarmWorkflows:
    """A bounded, thread-safe map instance id → (version id, state JSON, live workflow), least recently used out."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._size = size
        self._entries: OrderedDict[int, tuple[int, str, Workflow]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def take(self, instance_id: int, version_id: int, state_json: str) -> Workflow | None:
        """The live workflow of the instance when it was dumped to exactly `state_json` on that version, else None;
        the entry leaves the cache either way (the caller runs the workflow)."""
        with self._lock:
            entry = self._entries.pop(instance_id, None)
        if entry is not None and entry[0] == version_id and entry[1] == state_json:
            self.hits += 1
            return entry[2]
        self.misses += 1
        return None

    def keep(self, instance_id: int, version_id: int, state_json: str, handle: Workflow) -> None:
        """Remember the workflow a step just dumped to `state_json`."""
        with self._lock:
            self._entries[instance_id] = (version_id, state_json, handle)
            self._entries.move_to_end(instance_id)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def forget(self, instance_id: int) -> None:
        """Drop an instance (its state is being replaced outside a step)."""
        with self._lock:
            self._entries.pop(instance_id, None)
