"""A replay buffer: a ReplayStorage of typed records plus a sampler that picks which to train on.

The buffer is what actors add to and learners sample from; it knows nothing about what the
records mean. Saving writes the records, the counters and the sampler's state (priorities and
RNG) into one file, atomically, so a resumed run draws exactly the batches it would have drawn.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from selfplay.replay.samplers import Sampler
from selfplay.replay.storage import ReplayError, ReplayStorage, read_npz, write_npz_atomic

REPLAY_FILE = "replay.npz"
_SAMPLER_ARRAY = "sampler/"  # prefix of the sampler's array entries in the .npz


class ReplayBuffer:
    """Records in `storage`, drawn by `sampler` (UniformSampler or PrioritizedSampler)."""

    def __init__(self, storage: ReplayStorage, sampler: Sampler) -> None:
        sampler_capacity = getattr(sampler, "capacity", None)
        if sampler_capacity is not None and sampler_capacity != storage.capacity:
            raise ReplayError(f"sampler capacity {sampler_capacity} differs from storage "
                              f"capacity {storage.capacity}")
        self.storage = storage
        self.sampler = sampler

    def __len__(self) -> int:
        return self.storage.size

    def add(self, batch: Mapping[str, Any], td_errors: np.ndarray | None = None) -> np.ndarray:
        """Add one record or a batch (see ReplayStorage.add); returns the indices int64 [n].

        New records get the sampler's default priority, or, when the actor computed them (as
        in Ape-X), priorities from `td_errors` [n].
        """
        indices = self.storage.add(batch)
        self.sampler.on_add(indices)
        if td_errors is not None:
            self.sampler.update_priorities(indices, td_errors)
        return indices

    def sample(self, batch_size: int) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        """(records {name: [B, *shape]}, indices int64 [B], importance weights float32 [B])."""
        indices, weights = self.sampler.sample(batch_size, self.storage.size)
        return self.storage.get(indices), indices, weights

    def sample_indexed(self, batch_size: int) -> dict[str, np.ndarray]:
        """One dict for learners that send priorities back: the records plus `indices`
        int64 [B] and importance `weights` float32 [B]."""
        records, indices, weights = self.sample(batch_size)
        return {**records, "indices": indices, "weights": weights}

    def update_priorities(self, indices: np.ndarray, td_errors: np.ndarray) -> None:
        """New TD errors [B] for the records at `indices` [B] (ignored by uniform sampling).

        Indices overwritten since they were sampled get the new record's priority; with the
        usual capacity of many updates' worth of records this is rare and harmless.
        """
        self.sampler.update_priorities(indices, td_errors)

    def save(self, directory: str | os.PathLike) -> Path:
        """Write storage and sampler state to `directory`/replay.npz atomically; returns it."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        arrays = self.storage.state_arrays()
        scalars = {}
        for key, value in self.sampler.state_dict().items():
            if isinstance(value, np.ndarray):
                arrays[_SAMPLER_ARRAY + key] = value
            else:
                scalars[key] = value
        arrays["sampler_meta"] = np.array(json.dumps(scalars))
        path = directory / REPLAY_FILE
        write_npz_atomic(path, arrays)
        return path

    def load(self, directory: str | os.PathLike) -> None:
        """Restore what `save` wrote; on a missing, corrupt or mismatched file raise
        ReplayError and leave this buffer exactly as it was."""
        path = Path(directory) / REPLAY_FILE
        arrays = read_npz(path)
        prepared = self.storage.prepare_state(arrays)
        try:
            state = json.loads(str(arrays["sampler_meta"][()]))
        except (KeyError, ValueError) as err:
            raise ReplayError(f"{path} has no valid sampler state ({err!r})") from None
        if not isinstance(state, dict):
            raise ReplayError(f"{path} has no valid sampler state")
        for key, value in arrays.items():
            if key.startswith(_SAMPLER_ARRAY):
                state[key[len(_SAMPLER_ARRAY):]] = value
        self.sampler.load_state_dict(state)  # validates before changing anything
        self.storage.install_state(prepared)  # cannot fail
