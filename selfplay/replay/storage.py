"""Fixed-capacity ring buffer of typed array records, with a RAM check and atomic save/load.

The storage knows nothing about what a record means (an Atari transition, a Go position): a
`spec` maps field names to (shape, dtype), and one numpy array of shape [capacity, *shape] is
allocated per field. Records are written at `cursor`, which wraps around, so once the ring is
full the oldest records are overwritten. Until then the records live at [0, size).

Inputs are always copied into the ring: arrays from Ray's object store are read-only and may be
shared, so the ring never keeps a reference to them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from envs.atomic import atomic_file
from envs.errors import UserError

FORMAT_VERSION = 1
Spec = Mapping[str, tuple[Sequence[int], Any]]


class ReplayError(UserError, ValueError):
    """A replay operation that cannot be done: a bad record, a capacity that does not fit in
    memory, or a saved file that is corrupt or does not match."""


def _normalise_spec(spec: Spec) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    if not spec:
        raise ReplayError("a replay spec needs at least one field")
    out = {}
    for name, (shape, dtype) in spec.items():
        if not isinstance(name, str) or not name or "/" in name:
            raise ReplayError(f"field name must be a non-empty string without '/', got {name!r}")
        shape = tuple(int(d) for d in shape)
        if any(d < 0 for d in shape):
            raise ReplayError(f"field '{name}': negative dimension in shape {shape}")
        out[name] = (shape, np.dtype(dtype))
    return out


def format_bytes(n: float) -> str:
    """`n` bytes in human units (for messages): '7.06 GB'."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 999.5:
            return f"{n:.3g} {unit}"
        n /= 1000
    return f"{n:,.0f} PB"


def available_memory() -> tuple[int, int]:
    """(available, total) bytes of RAM: MemAvailable from /proc/meminfo when readable (else the
    physical total), and SC_PHYS_PAGES * SC_PAGE_SIZE."""
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    available = total
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    return available, total


def check_fits_in_memory(nbytes: int, fraction: float = 0.8) -> None:
    """Raise ReplayError unless `nbytes` fits in `fraction` of the available RAM."""
    available, total = available_memory()
    if nbytes > fraction * available:
        raise ReplayError(
            f"replay needs {format_bytes(nbytes)} but only {format_bytes(available)} of "
            f"{format_bytes(total)} RAM is available (limit {fraction:.0%} of available: "
            f"{format_bytes(fraction * available)}); lower the capacity")


def _check_dtype(name: str, value: np.ndarray, dtype: np.dtype) -> None:
    """Accept same-kind casts (float64 -> float32) and integers whose values fit `dtype`
    (a Python int action into a uint8 field); refuse the rest (floats into uint8 frames)."""
    if np.can_cast(value.dtype, dtype, casting="same_kind"):
        return
    if value.dtype.kind in "iu" and dtype.kind in "iu":
        info = np.iinfo(dtype)
        if value.size == 0 or (info.min <= value.min() and value.max() <= info.max):
            return
        raise ReplayError(f"field '{name}': values [{value.min()}, {value.max()}] do not fit "
                          f"{dtype}")
    raise ReplayError(f"field '{name}': dtype {value.dtype} cannot be stored as {dtype}")


class ReplayStorage:
    """A ring of `capacity` records; field `name` is stored as an array [capacity, *shape].

    `check_memory` refuses (ReplayError) a capacity whose arrays would not fit in RAM, before
    allocating anything.
    """

    def __init__(self, spec: Spec, capacity: int, check_memory: bool = True) -> None:
        if int(capacity) < 1:
            raise ReplayError(f"capacity must be at least 1, got {capacity}")
        self.spec = _normalise_spec(spec)
        self._capacity = int(capacity)
        if check_memory:
            check_fits_in_memory(self.estimate_bytes(self.spec, self._capacity))
        self._data = {name: np.zeros((self._capacity, *shape), dtype)
                      for name, (shape, dtype) in self.spec.items()}
        self._cursor = 0
        self._size = 0
        self._total_added = 0

    @staticmethod
    def estimate_bytes(spec: Spec, capacity: int) -> int:
        """Bytes the arrays of `capacity` records of `spec` take (before allocating them)."""
        per_record = sum(int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
                         for shape, dtype in _normalise_spec(spec).values())
        return per_record * int(capacity)

    @property
    def capacity(self) -> int:
        """Maximum number of records."""
        return self._capacity

    @property
    def size(self) -> int:
        """Number of records stored (they live at [0, size))."""
        return self._size

    @property
    def cursor(self) -> int:
        """Index the next record is written to."""
        return self._cursor

    @property
    def total_added(self) -> int:
        """Records added since creation (including overwritten ones)."""
        return self._total_added

    @property
    def nbytes(self) -> int:
        """Bytes held by the record arrays."""
        return sum(a.nbytes for a in self._data.values())

    def __len__(self) -> int:
        return self._size

    def _count(self, batch: Mapping[str, Any]) -> tuple[int, dict[str, np.ndarray]]:
        """Validate `batch` and return (number of records, arrays of shape [n, *shape])."""
        missing = sorted(set(self.spec) - set(batch))
        extra = sorted(set(batch) - set(self.spec))
        if missing or extra:
            raise ReplayError(f"record fields do not match the spec: missing {missing}, "
                              f"unexpected {extra} (spec: {sorted(self.spec)})")
        arrays, count, first = {}, None, None
        for name, (shape, dtype) in self.spec.items():
            value = np.asarray(batch[name])
            _check_dtype(name, value, dtype)
            if value.shape == shape:
                value = value[None]
            elif value.shape[1:] != shape:
                raise ReplayError(f"field '{name}': shape {value.shape} is neither one record "
                                  f"{shape} nor a batch (n, *{shape})")
            if count is None:
                count, first = len(value), name
            elif len(value) != count:
                raise ReplayError(f"field '{name}' has {len(value)} records but field "
                                  f"'{first}' has {count}")
            arrays[name] = value
        return int(count), arrays

    def add(self, batch: Mapping[str, Any]) -> np.ndarray:
        """Copy one record (arrays of the field shapes) or n records (arrays [n, *shape]) into
        the ring. Returns the indices written, int64 [n] (with more than `capacity` records,
        only the last `capacity` are kept, and the indices repeat)."""
        n, arrays = self._count(batch)
        indices = (self._cursor + np.arange(n, dtype=np.int64)) % self._capacity
        keep = min(n, self._capacity)
        start = (self._cursor + n - keep) % self._capacity
        first = min(keep, self._capacity - start)
        for name, value in arrays.items():
            tail = value[n - keep:]
            ring = self._data[name]
            ring[start:start + first] = tail[:first]
            ring[:keep - first] = tail[first:]
        self._cursor = (self._cursor + n) % self._capacity
        self._size = min(self._size + n, self._capacity)
        self._total_added += n
        return indices

    def get(self, indices: np.ndarray | Sequence[int],
            fields: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """Copies of the records at `indices` [B]: {name: array [B, *shape]}, for every field
        or only `fields`."""
        idx = np.asarray(indices, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= self._size):
            raise ReplayError(f"record index out of range [0, {self._size})")
        names = self._data if fields is None else fields
        return {name: self._data[name][idx] for name in names}

    def ring(self, name: str) -> np.ndarray:
        """A read-only view of field `name`'s whole ring [capacity, *shape], for code that
        reads records in place (records at size and beyond are zeros or stale)."""
        view = self._data[name].view()
        view.flags.writeable = False
        return view

    # --- persistence -------------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        """JSON-able description of the ring: spec, capacity, counters and format version."""
        return {"format_version": FORMAT_VERSION, "capacity": self._capacity,
                "spec": {n: [list(s), d.str] for n, (s, d) in self.spec.items()},
                "cursor": self._cursor, "size": self._size, "total_added": self._total_added}

    def state_arrays(self) -> dict[str, np.ndarray]:
        """The stored records, {'data/<name>': [size, *shape]}, plus 'storage_meta' (JSON)."""
        arrays = {f"data/{n}": ring[:self._size] for n, ring in self._data.items()}
        arrays["storage_meta"] = np.array(json.dumps(self.metadata()))
        return arrays

    def prepare_state(self, arrays: Mapping[str, np.ndarray]) -> tuple[dict, dict]:
        """Validate loaded `arrays` against this ring and build (new rings, counters) without
        touching the current contents; install them with `install_state`."""
        try:
            meta = json.loads(str(arrays["storage_meta"][()]))
            version = meta["format_version"]
            counters = {k: int(meta[k]) for k in ("cursor", "size", "total_added")}
            saved_spec, capacity = meta["spec"], int(meta["capacity"])
        except (KeyError, ValueError, TypeError) as err:
            raise ReplayError(f"replay file has no valid storage metadata ({err!r})") from None
        if version != FORMAT_VERSION:
            raise ReplayError(f"replay file format {version}, expected {FORMAT_VERSION}")
        if saved_spec != self.metadata()["spec"] or capacity != self._capacity:
            raise ReplayError(f"replay file holds spec {saved_spec} with capacity {capacity}, "
                              f"this buffer {self.metadata()['spec']} with {self._capacity}")
        size, cursor = counters["size"], counters["cursor"]
        if not (0 <= size <= capacity and 0 <= cursor < capacity
                and counters["total_added"] >= size and (size == capacity or cursor == size)):
            raise ReplayError(f"replay file has inconsistent counters {counters}")
        rings = {}
        for name, (shape, dtype) in self.spec.items():
            saved = arrays.get(f"data/{name}")
            if saved is None or saved.shape != (size, *shape) or saved.dtype != dtype:
                got = None if saved is None else (saved.shape, saved.dtype)
                raise ReplayError(f"replay file field '{name}': expected {(size, *shape)} "
                                  f"{dtype}, got {got}")
            if size == capacity and saved.flags.writeable:
                rings[name] = saved
            else:
                rings[name] = np.zeros((capacity, *shape), dtype)
                rings[name][:size] = saved
        return rings, counters

    def install_state(self, prepared: tuple[dict, dict]) -> None:
        """Swap in what `prepare_state` built (cannot fail)."""
        rings, counters = prepared
        self._data = rings
        self._cursor, self._size = counters["cursor"], counters["size"]
        self._total_added = counters["total_added"]

    def save(self, path: str | os.PathLike) -> None:
        """Write the records and counters to the file `path` atomically (.npz, uncompressed)."""
        write_npz_atomic(path, self.state_arrays())

    def load(self, path: str | os.PathLike) -> None:
        """Replace the contents with those saved at `path`; on a corrupt, truncated or
        mismatched file raise ReplayError and leave the current contents as they were.

        The file is read and checked in full before the swap, so loading briefly holds the
        old and the new records together (about 2 x nbytes)."""
        self.install_state(self.prepare_state(read_npz(path)))


def write_npz_atomic(path: str | os.PathLike, arrays: Mapping[str, np.ndarray]) -> None:
    """np.savez `arrays` to a temp file beside `path`, fsync it, then os.replace it onto
    `path` (and fsync the directory), so `path` is either the old file or the whole new one."""
    path = Path(path)
    with atomic_file(path) as f:
        np.savez(f, **arrays)


def read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every array of the .npz at `path` (no pickles); ReplayError if missing or corrupt (the
    zip CRC of every member is checked while reading)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except FileNotFoundError:
        raise ReplayError(f"no replay file at {path}") from None
    except Exception as err:  # zipfile.BadZipFile, ValueError, OSError, EOFError, ...
        raise ReplayError(f"replay file {path} is corrupt or truncated: {err}") from None
