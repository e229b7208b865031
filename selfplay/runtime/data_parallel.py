"""The learner side of RayBackend: one learner actor, or K data-parallel ones.

With K > 1 learners, every training step runs on all K ranks at once, each on its own batch
of B/K records from replay; each rank computes the gradients of its mean loss, the gradients
are averaged with a torch.distributed all-reduce (gloo on CPU, nccl on GPU), and every rank
applies the same optimizer step. The mean of K per-rank means over equal parts is the mean
over the whole batch, so K learners make the update one learner would make on the combined
batch (tests check this), only with K times the compute.

A data-parallel learner needs three more methods than the Learner protocol, splitting `step`
around the all-reduce: `backward(batch) -> metrics`, `apply()`, `parameters()` (GoLearner has
them). Weights and checkpoints come from rank 0; a resumed state is loaded into every rank.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import numpy as np
import ray

from selfplay.runtime.api import LearnerFactory, RuntimeBackendError


def average_gradients(parameters: list, world: int) -> None:
    """All-reduce the .grad of `parameters` (flattened into one tensor, one collective call)
    and divide by `world`, in place."""
    import torch
    import torch.distributed as dist

    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= world
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()


class _RankHost:
    """One learner rank in its Ray worker. With world 1 it is a plain learner host."""

    def __init__(self, factory: LearnerFactory, rank: int, world: int) -> None:
        from agents.cpu import flush_denormals  # a fresh worker: before torch's threads start

        flush_denormals()
        self.learner = factory()
        self.rank, self.world = rank, world
        self._own_stream()

    def _own_stream(self) -> None:
        """Every rank builds (or resumes) the same learner, random generator included: rank
        r > 0 jumps its generator r times (2^127 draws each), so the ranks' augmentations are
        independent instead of giving the same symmetries to the same slots of their batches."""
        rng = getattr(self.learner, "rng", None)
        if self.rank and isinstance(rng, np.random.Generator):
            self.learner.rng = np.random.Generator(rng.bit_generator.jumped(self.rank))

    def rendezvous(self) -> tuple[str, int]:
        """(this node's IP, a free port) for the process group's TCP store (rank 0 only)."""
        with socket.socket() as s:
            s.bind(("", 0))
            port = s.getsockname()[1]
        return ray.util.get_node_ip_address(), port

    def join(self, host: str, port: int, backend: str) -> None:
        import torch.distributed as dist

        dist.init_process_group(backend, init_method=f"tcp://{host}:{port}", rank=self.rank,
                                world_size=self.world, timeout=timedelta(seconds=120))

    def step(self, batch: Mapping[str, np.ndarray]) -> dict[str, float]:
        if self.world == 1:
            return self.learner.step(batch)
        metrics = self.learner.backward(batch)
        average_gradients(self.learner.parameters(), self.world)
        self.learner.apply()
        return metrics

    def get_weights(self) -> tuple[int, Any]:
        return self.learner.get_weights()

    def state_dict(self) -> dict[str, Any]:
        return self.learner.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.learner.load_state_dict(state)  # rank 0's state, generator included
        self._own_stream()

    def leave(self) -> None:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()


class LearnerGroup:
    """`learners` learner ranks as Ray actors, each reserving `num_cpus` and `num_gpus`."""

    def __init__(self, factory: LearnerFactory, learners: int = 1, num_cpus: float = 1.0,
                 num_gpus: float = 0.0) -> None:
        if learners < 1:
            raise RuntimeBackendError(f"need at least one learner, got {learners}")
        host = ray.remote(_RankHost).options(num_cpus=num_cpus, num_gpus=num_gpus)
        self.ranks = [host.remote(factory, r, learners) for r in range(learners)]
        if learners > 1:
            address, port = ray.get(self.ranks[0].rendezvous.remote())
            backend = "nccl" if num_gpus > 0 else "gloo"
            ray.get([h.join.remote(address, port, backend) for h in self.ranks])

    def __len__(self) -> int:
        return len(self.ranks)

    def step(self, samples: list) -> list:
        """Submit one step: samples[r] (a batch or its ObjectRef) to rank r; metric refs."""
        if len(samples) != len(self.ranks):
            raise ValueError(f"{len(samples)} samples for {len(self.ranks)} learners")
        return [h.step.remote(s) for h, s in zip(self.ranks, samples, strict=True)]

    @staticmethod
    def mean_metrics(per_rank: list[dict[str, float]]) -> dict[str, float]:
        """A step's metrics averaged over the ranks (each saw an equal part of the batch)."""
        return {k: float(np.mean([m[k] for m in per_rank])) for k in per_rank[0]}

    def get_weights(self) -> tuple[int, Any]:
        return ray.get(self.ranks[0].get_weights.remote())

    def state_dict(self) -> dict[str, Any]:
        return ray.get(self.ranks[0].state_dict.remote())

    def load_state_dict(self, state: dict[str, Any]) -> None:
        ray.get([h.load_state_dict.remote(state) for h in self.ranks])

    def handles(self) -> list:
        return list(self.ranks)
