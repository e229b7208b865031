"""Replay that stores each frame once and rebuilds stacks of k frames by index.

Stacked observations overlap: obs_t = (f_{t-3}, .., f_t) and obs_{t+1} = (f_{t-2}, .., f_{t+1})
share three frames, and next_obs_t is obs_{t+1}. Storing each frame once takes 1M Atari
transitions from 56 GB (obs and next_obs stacked) to about 7.07 GB.

Records. `streams` environments step in lockstep and each call of `add_row` writes one record
per stream, so stream s owns indices s, s + S, s + 2S, ... (S = streams) and the records of one
stream before and after index i are i - S and i + S (modulo the capacity, a multiple of S).
Record i of a stream holds

    frame       the newest frame of the observation the agent acted on    [*frame_shape]
    action      the action taken                                          int32
    reward      the reward that followed                                  float32
    terminated  the episode ended for good: the next state is not bootstrapped
    truncated   the episode was cut (time limit): the next state is still bootstrapped
    first       the frame opens an episode: older frames of the stream are not part of it
    last        the frame closes an episode: no action was taken from it (it is stored
                only as the next observation of the step before)

Rebuilding. obs of record i stacks the frames of i - (k-1)S .. i; frames from before the
episode's `first` record are zeros (what FrameStackObservation(padding_type="zero") and ale-py's
vector env give at a reset). An n-step transition from i adds steps i, i+S, .. while they stay
in the episode: step j counts only if record i+(j+1)S exists and is not a `first` (so its frame
can serve as next frame), and the return stops after a terminated or truncated step. With m
steps counted: reward = sum_j gamma^j r_j, discount = gamma^m, or 0 if step m-1 terminated,
next_obs = the stack of record i + mS.

Chunks from several senders (Ape-X actors) can share one ring: `add` writes a chunk's rows
[R, S] one after another, so within a chunk the stream layout above holds. The sender marks
the chunk's first row `first`, so that nothing looks back into whatever the ring held before
it, and repeats the k-1 rows before and the n rows after its new rows as context, marked
`last` (no transition starts there); selfplay/atari/apex_actor.py explains and does it.

A record cannot be sampled when it is a `last` record, when its first step has no next frame
yet (the newest row, or a stream cut by a resumed run), or when its stack reaches back past the
oldest record still stored without meeting its episode's first frame. Samplers know nothing of
this: such draws are redrawn (a few per episode out of the whole capacity).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numba as nb
import numpy as np

from selfplay.replay.buffer import ReplayBuffer
from selfplay.replay.samplers import Sampler
from selfplay.replay.storage import ReplayError, ReplayStorage

FLAGS = ("terminated", "truncated", "first", "last")
_SMALL_FIELDS = ("action", "reward", *FLAGS)  # all but the frames


class FrameReplay:
    """`capacity` records of `frame_shape` frames from `streams` lockstep streams; batches of
    stacks of `stack` frames with `n_step` returns discounted by `gamma`."""

    def __init__(self, capacity: int, frame_shape: Sequence[int], frame_dtype: Any = np.uint8,
                 *, sampler: Sampler, stack: int = 4, streams: int = 1, n_step: int = 1,
                 gamma: float = 0.99, check_memory: bool = True, max_redraws: int = 100) -> None:
        if stack < 1 or n_step < 1 or streams < 1:
            raise ReplayError(f"need stack, n_step and streams >= 1, got {stack}, {n_step}, "
                              f"{streams}")
        if capacity % streams:
            raise ReplayError(f"capacity {capacity} must be a multiple of streams {streams}")
        if capacity < (stack + n_step + 1) * streams:
            raise ReplayError(f"capacity {capacity} is too small for stacks of {stack} and "
                              f"{n_step}-step returns over {streams} streams")
        self.stack, self.streams, self.n_step = int(stack), int(streams), int(n_step)
        self.gamma = float(gamma)
        self.max_redraws = int(max_redraws)
        self.frame_shape = tuple(int(d) for d in frame_shape)
        storage = ReplayStorage(self.spec(self.frame_shape, frame_dtype), capacity, check_memory)
        self.buffer = ReplayBuffer(storage, sampler)
        self.storage = storage

    @staticmethod
    def spec(frame_shape: Sequence[int], frame_dtype: Any = np.uint8) -> dict:
        """The record fields (see the module docstring)."""
        return {"frame": (tuple(frame_shape), np.dtype(frame_dtype)),
                "action": ((), np.int32), "reward": ((), np.float32),
                **{flag: ((), np.bool_) for flag in FLAGS}}

    @classmethod
    def estimate_bytes(cls, capacity: int, frame_shape: Sequence[int],
                       frame_dtype: Any = np.uint8) -> int:
        """RAM the records take (84x84 uint8: 7,068 bytes each, 7.07 GB for 1M)."""
        return ReplayStorage.estimate_bytes(cls.spec(frame_shape, frame_dtype), capacity)

    def __len__(self) -> int:
        return self.storage.size

    @property
    def capacity(self) -> int:
        return self.storage.capacity

    def add_row(self, frame: np.ndarray, action: np.ndarray, reward: np.ndarray,
                terminated: np.ndarray, truncated: np.ndarray, first: np.ndarray,
                last: np.ndarray, td_errors: np.ndarray | None = None) -> np.ndarray:
        """Append one record per stream: frame [S, *frame_shape], the others [S]. Returns the
        indices written, int64 [S]."""
        row = {"frame": frame, "action": action, "reward": reward, "terminated": terminated,
               "truncated": truncated, "first": first, "last": last}
        for name, value in row.items():
            if np.shape(value)[:1] != (self.streams,):
                raise ReplayError(f"add_row: {name} needs a leading dimension of "
                                  f"{self.streams} streams, got shape {np.shape(value)}")
        return self.buffer.add(row, td_errors)

    def add(self, rows: dict[str, np.ndarray], td_errors: np.ndarray | None = None
            ) -> np.ndarray:
        """Append R rows at once: each field [R, S, ...] (td_errors [R, S] when the sender
        computed priorities). The same as R calls of `add_row`; the form replay shards take
        (Ape-X actors send their chunks this way). Returns the indices written, int64 [R*S]."""
        records = {}
        for name in ("frame", "action", "reward", *FLAGS):
            value = np.asarray(rows[name])
            if value.shape[1:2] != (self.streams,):
                raise ReplayError(f"add: {name} needs shape [rows, {self.streams} streams, "
                                  f"...], got {value.shape}")
            records[name] = value.reshape(-1, *value.shape[2:])
        if td_errors is not None:
            td_errors = np.asarray(td_errors).reshape(-1)
        return self.buffer.add(records, td_errors)

    # ---- rebuilding ---------------------------------------------------------------------------

    def _window(self, indices: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray,
                                                    np.ndarray]:
        """Records at offsets -(k-1) .. n (in steps of S) around `indices` [B]: their fields
        but the frames [B, k+n], whether each exists (stored, and not newer than the newest),
        and their record indices [B, k+n] (the frames stay in the ring until stacked)."""
        c, size, cursor = self.capacity, self.storage.size, self.storage.cursor
        offsets = np.arange(-(self.stack - 1), self.n_step + 1) * self.streams
        position = (indices - cursor) % c  # 0 = oldest slot of a full ring, c - 1 = newest
        window_position = position[:, None] + offsets[None, :]
        exists = (window_position >= c - size) & (window_position <= c - 1)
        window = np.where(exists, (indices[:, None] + offsets[None, :]) % c, indices[:, None])
        return self.storage.get(window, _SMALL_FIELDS), exists, window

    def _stack(self, window: np.ndarray, first: np.ndarray, exists: np.ndarray,
               anchor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Stacks [B, k, *F] ending at window column `anchor` [B], zero before a `first`
        record, and whether each is complete (no missing frame inside the episode)."""
        b = np.arange(len(anchor))
        k = self.stack
        rows = np.full((len(anchor), k), -1, np.int64)  # the record of each slot; -1: zeros
        rows[:, k - 1] = window[b, anchor]
        complete = np.ones(len(anchor), bool)
        cut = first[b, anchor].copy()
        for back in range(1, k):
            column = anchor - back
            use = ~cut & exists[b, column]
            complete &= cut | exists[b, column]
            rows[use, k - 1 - back] = window[b[use], column[use]]
            cut |= first[b, column]
        return _stack_records(self.storage.ring("frame"), rows), complete

    def gather(self, indices: np.ndarray | Sequence[int]) -> tuple[dict[str, np.ndarray],
                                                                   np.ndarray]:
        """Rebuild transitions at `indices` [B] -> (batch, valid bool [B]). batch: obs and
        next_obs [B, k, *frame_shape], action int64 [B], reward float32 [B] (n-step return),
        discount float32 [B], steps int64 [B] (m); entries where valid is False are junk."""
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        w, exists, window = self._window(indices)
        a = self.stack - 1  # column of the sampled record
        count = len(indices)
        alive = np.ones(count, bool)
        steps = np.zeros(count, np.int64)
        returns = np.zeros(count, np.float64)
        terminal = np.zeros(count, bool)
        for j in range(self.n_step):
            step_counts = (alive & exists[:, a + j + 1] & ~w["first"][:, a + j + 1])
            returns += np.where(step_counts, self.gamma ** j * w["reward"][:, a + j], 0.0)
            steps += step_counts
            terminal = np.where(step_counts, w["terminated"][:, a + j], terminal)
            alive = step_counts & ~w["terminated"][:, a + j] & ~w["truncated"][:, a + j]
        obs, complete = self._stack(window, w["first"], exists, np.full(count, a))
        next_obs, _ = self._stack(window, w["first"], exists, a + steps)
        valid = (steps >= 1) & ~w["last"][:, a] & complete
        discount = np.where(terminal, 0.0, self.gamma ** steps.astype(np.float64))
        batch = {"obs": obs, "action": w["action"][:, a].astype(np.int64),
                 "reward": returns.astype(np.float32), "discount": discount.astype(np.float32),
                 "next_obs": next_obs, "steps": steps}
        return batch, valid

    def valid(self, indices: np.ndarray | Sequence[int]) -> np.ndarray:
        """bool [B]: which of `indices` can be sampled (see the module docstring)."""
        return self.gather(indices)[1]

    def sample(self, batch_size: int) -> dict[str, np.ndarray]:
        """A batch of `batch_size` complete transitions drawn by the sampler (invalid draws are
        redrawn): the fields of `gather` plus weights float32 [B] and indices int64 [B]."""
        size = self.storage.size
        indices, weights = self.buffer.sampler.sample(batch_size, size)
        indices, weights = indices.copy(), weights.copy()
        for _ in range(self.max_redraws):
            batch, valid = self.gather(indices)
            if valid.all():
                batch.update(weights=weights, indices=indices)
                return batch
            bad = ~valid
            new_indices, new_weights = self.buffer.sampler.sample(int(bad.sum()), size)
            indices[bad], weights[bad] = new_indices, new_weights
        raise ReplayError(f"no complete transition among {size} records after "
                          f"{self.max_redraws} redraws; add more before sampling")

    def sample_indexed(self, batch_size: int) -> dict[str, np.ndarray]:
        """`sample` (its batches already carry indices and weights); the name replay shards
        call on any replay (see ReplayBuffer.sample_indexed)."""
        return self.sample(batch_size)

    def update_priorities(self, indices: np.ndarray, td_errors: np.ndarray) -> None:
        """New TD errors [B] for sampled `indices` [B] (ignored by uniform sampling)."""
        self.buffer.update_priorities(indices, td_errors)

    def save(self, directory: str | os.PathLike) -> Path:
        """Records, counters and sampler state to `directory`/replay.npz (atomic)."""
        return self.buffer.save(directory)

    def load(self, directory: str | os.PathLike) -> None:
        """Restore what `save` wrote (ReplayError and no change on a bad file)."""
        self.buffer.load(directory)


def _stack_records(ring: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Stacks of the records `rows` [B, k] (-1: a frame of zeros) of `ring` [C, *F] ->
    [B, k, *F]. Image stacks ([C, H, W] rings) come channels-last: a [B, k, H, W] view of
    [B, H, W, k] bytes. The Q-network's convolutions run channels-last
    (agents/dqn/networks.py), and torch reorders a plain [B, k, H, W] byte batch of 32 at
    2.5-3 ms on this CPU; torch.as_tensor keeps these strides, so its conversion is free."""
    if ring.ndim != 3:  # vectors (classic control): plain fancy indexing
        out = ring[np.maximum(rows, 0)]
        out[rows < 0] = 0
        return out
    count, k = rows.shape
    out = np.empty((count, *ring.shape[1:], k), ring.dtype)
    flat_ring = ring.reshape(len(ring), -1)
    if k == 4 and ring.dtype == np.uint8 and sys.byteorder == "little":
        # a pixel's 4 bytes are one uint32: one vectorised pass, ~10x the byte-wise loop
        _pack4(flat_ring, rows, out.view(np.uint32).reshape(count, -1))
    else:
        _interleave(flat_ring, rows, out.reshape(count, -1, k))
    return out.transpose(0, 3, 1, 2)


@nb.njit(cache=True, nogil=True)
def _interleave(ring, rows, out):  # ring [C, P], rows [B, k], out [B, P, k]
    for b in range(rows.shape[0]):
        for j in range(rows.shape[1]):
            if rows[b, j] < 0:
                out[b, :, j] = 0
            else:
                out[b, :, j] = ring[rows[b, j]]


@nb.njit(cache=True, nogil=True)
def _pack4(ring, rows, out):  # ring [C, P] uint8, rows [B, 4], out [B, P] uint32
    zeros = np.zeros(ring.shape[1], np.uint8)
    for b in range(rows.shape[0]):
        f0 = ring[rows[b, 0]] if rows[b, 0] >= 0 else zeros
        f1 = ring[rows[b, 1]] if rows[b, 1] >= 0 else zeros
        f2 = ring[rows[b, 2]] if rows[b, 2] >= 0 else zeros
        f3 = ring[rows[b, 3]] if rows[b, 3] >= 0 else zeros
        for p in range(ring.shape[1]):  # little-endian: frame j is byte j of the pixel
            out[b, p] = (np.uint32(f0[p]) | (np.uint32(f1[p]) << 8)
                         | (np.uint32(f2[p]) << 16) | (np.uint32(f3[p]) << 24))
