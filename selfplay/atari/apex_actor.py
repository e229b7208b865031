"""The pieces of an Ape-X run that live in Ray workers: the actor, the learner, the replay.

    ApexActor     steps its own vector env with its own fixed epsilon, cuts its experience
                  into chunks and gives each transition a first priority
    ApexLearner   DQNLearner behind the runtime's Learner surface (TD errors come back)
    make_replay   one replay shard: a FrameReplay with a prioritized sampler

Chunks. A FrameReplay stores each frame once and rebuilds a stack from the records just
before it in the same stream; n-step returns read the n records just after. Actors send their
rows at different times, so one actor's consecutive chunks are not neighbours in a shard's
ring. Each chunk therefore carries its own neighbourhood: besides its T new rows [T, E] (E =
the actor's envs, one stream each) it repeats the k-1 rows before them (so their stacks are
complete) and the n rows after them (so their n-step returns are), both marked `last` (no
transition starts there), and its first row is marked `first` (nothing older belongs to it).
The n look-ahead rows are the next chunk's new rows. A chunk is self-contained wherever it
lands, every transition is sampleable exactly once, and frames still go in once per chunk;
the cost is (k-1+n)/T repeated rows (12% at k 4, n 3, T 50).

Priorities. The actor writes the chunk into a small FrameReplay of its own, gathers the n-step
transitions of the new rows there with the same code the learner's batches come from, and
takes |TD error| from the Q-values it computed while acting: delta = R + d max_a Q(s_{t+m}, a)
- Q(s_t, a_t), with its local copy of the network (as in Ape-X, no target network).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch

from agents.dqn import DQNLearner, EpsilonGreedyActor, apex_epsilons
from envs.atari.classic import is_classic, make_vec_env
from selfplay.atari.config import DQNConfig, resolve_device
from selfplay.atari.train import build_network, learner_config
from selfplay.replay import PrioritizedSampler, UniformSampler
from selfplay.replay.frames import FLAGS, FrameReplay

ROW_FIELDS = ("frame", "action", "reward", *FLAGS)


@dataclasses.dataclass(frozen=True)
class ActorSpec:
    """What every actor of a run shares: env, config, how many actors, rows per chunk."""

    env_id: str
    config: DQNConfig
    num_actors: int
    chunk: int = 50  # new rows per chunk (x num_envs agent steps)


def frame_dtype(env_id: str) -> Any:
    return np.float32 if is_classic(env_id) else np.uint8


class ApexActor:
    """One actor: `run(n)` returns n chunks (see the module docstring). Actor i of N plays
    with eps_i = 0.4^(1 + 7 i / (N - 1)); a replacement actor (id >= N) takes id mod N's."""

    def __init__(self, spec: ActorSpec, actor_id: int) -> None:
        config = self.config = spec.config
        self.actor_id, self.chunk = actor_id, spec.chunk
        if config.torch_threads:
            torch.set_num_threads(config.torch_threads)
        seeds = np.random.SeedSequence([config.seed, 1 + actor_id]).spawn(3)
        self.env = make_vec_env(spec.env_id, config.num_envs, training=True,
                                noop_max=config.noop_max, sticky_actions=config.sticky_actions,
                                full_action_space=config.full_action_space,
                                episodic_life=config.episodic_life,
                                fire_reset=config.fire_reset, clip_rewards=config.clip_rewards)
        obs_shape, self.num_actions = tuple(self.env.obs_shape), self.env.num_actions
        # a noisy network explores by its noise: it acts in training mode, resampled each
        # step by the policy (agents/dqn/actor.py); any other has no train-only layers
        self.network = build_network(config, obs_shape, self.num_actions, 0).train(config.noisy)
        self.policy = EpsilonGreedyActor(self.network, self.num_actions,
                                         np.random.default_rng(seeds[0]))
        self.epsilon = float(apex_epsilons(spec.num_actors)[actor_id % spec.num_actors])
        self.version = -1
        self.stack, self.n_step, self.streams = obs_shape[0], config.n_step, config.num_envs
        rows = self.stack - 1 + self.chunk + self.n_step
        self.local = FrameReplay(rows * self.streams, obs_shape[1:], frame_dtype(spec.env_id),
                                 sampler=UniformSampler(np.random.default_rng(seeds[1])),
                                 stack=self.stack, streams=self.streams, n_step=self.n_step,
                                 gamma=config.gamma, check_memory=False)
        self.local_q = np.zeros((self.local.capacity, self.num_actions), np.float32)
        self.rows: list[dict[str, np.ndarray]] = []  # context rows, then rows not yet sent
        self.context = 0
        self.obs = self.env.reset(seed=int(seeds[2].generate_state(1)[0] % 2**31))
        self.first = np.ones(self.streams, bool)
        self.episode_return = np.zeros(self.streams)

    def set_weights(self, version: int, weights: dict[str, torch.Tensor]) -> None:
        self.network.load_state_dict(weights)
        self.version = version

    def run(self, n: int) -> list[dict[str, Any]]:
        return [self._next_chunk() for _ in range(n)]

    def _step(self, returns: list[float]) -> None:
        """One lockstep step of the actor's envs, kept as a row (with its Q-values)."""
        q = self.policy.q_values(self.obs)
        actions = self.policy.act_on_q(q, self.epsilon)
        out = self.env.step(actions)
        self.rows.append({"frame": np.array(self.obs[:, -1]), "action": actions,
                          "reward": out.reward, "terminated": out.terminated,
                          "truncated": out.truncated, "first": self.first, "last": out.reset,
                          "q": q})
        self.episode_return += out.score
        for e in np.flatnonzero(out.reset):  # a game ends when its env restarts
            returns.append(float(self.episode_return[e]))
            self.episode_return[e] = 0.0
        self.first, self.obs = out.reset, out.obs

    def _next_chunk(self) -> dict[str, Any]:
        """Rows [R, E] = context + `chunk` new rows + n look-ahead; their TD errors [R, E]."""
        returns: list[float] = []
        new_rows = self.context + self.chunk
        stepped = 0
        while len(self.rows) < new_rows + self.n_step:
            self._step(returns)
            stepped += 1
        rows = self.rows[:new_rows + self.n_step]
        records = {name: np.stack([row[name] for row in rows]) for name in ROW_FIELDS}
        records["first"][0] = True
        records["last"][:self.context] = True
        records["last"][new_rows:] = True
        td = self._td_errors(records, np.stack([row["q"] for row in rows]), new_rows)
        kept = min(self.stack - 1, new_rows)  # the next chunk's context
        self.rows = self.rows[new_rows - kept:]
        self.context = kept
        return {"records": records, "td_errors": td, "steps": stepped * self.streams,
                "returns": returns, "actor_id": self.actor_id, "epsilon": self.epsilon,
                "version": self.version}

    def _td_errors(self, records: dict[str, np.ndarray], q: np.ndarray, new_rows: int
                   ) -> np.ndarray:
        """float32 [R, E]: TD errors of the new rows' transitions (0 elsewhere)."""
        indices = self.local.add(records)
        self.local_q[indices] = q.reshape(-1, self.num_actions)
        body = indices.reshape(len(q), self.streams)[self.context:new_rows].reshape(-1)
        batch, valid = self.local.gather(body)
        following = (body + batch["steps"] * self.streams) % self.local.capacity
        target = batch["reward"] + batch["discount"] * self.local_q[following].max(axis=1)
        td = np.where(valid, target - self.local_q[body, batch["action"]], 0.0)
        out = np.zeros(q.shape[:2], np.float32)
        out[self.context:new_rows] = td.reshape(-1, self.streams)
        return out


class ApexLearner:
    """DQNLearner as a runtime Learner: `step` returns the metrics plus the batch's `indices`
    and `td_errors` [B] (new priorities); weights are the online network's CPU tensors,
    versioned by the update count."""

    def __init__(self, config: DQNConfig, obs_shape: tuple[int, ...], num_actions: int,
                 init_seed: int, threads: int = 0) -> None:
        if threads:
            torch.set_num_threads(threads)
        network = build_network(config, obs_shape, num_actions, init_seed)
        self.learner = DQNLearner(network, learner_config(config), resolve_device(config.device))

    def step(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        result = self.learner.update(batch)
        return {"loss": result.loss, "q_mean": result.q_mean, "grad_norm": result.grad_norm,
                "indices": np.asarray(batch["indices"]), "td_errors": result.td_errors}

    def get_weights(self) -> tuple[int, dict[str, torch.Tensor]]:
        weights = {k: v.detach().cpu() for k, v in self.learner.network.state_dict().items()}
        return self.learner.updates, weights

    def state_dict(self) -> dict[str, Any]:
        return self.learner.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.learner.load_state_dict(state)


def make_replay(config: DQNConfig, obs_shape: tuple[int, ...], dtype: Any, capacity: int,
                shard: int) -> FrameReplay:
    """Shard `shard`'s replay: `capacity` records (a multiple of num_envs) of observations
    `obs_shape` [k, *frame], prioritized with the config's alpha and a fixed beta (Ape-X
    keeps beta at 0.4 rather than annealing it)."""
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, 1000 + shard]))
    sampler = PrioritizedSampler(capacity, config.replay.priority_alpha,
                                 config.replay.priority_beta_start, config.replay.priority_eps,
                                 rng=rng)
    return FrameReplay(capacity, obs_shape[1:], dtype, sampler=sampler, stack=obs_shape[0],
                       streams=config.num_envs, n_step=config.n_step, gamma=config.gamma)
