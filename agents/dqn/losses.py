"""DQN's loss as pure functions of tensors (no modules, no state), so each piece can be checked
on numbers worked out by hand.

A sampled transition carries an n-step return R = sum_{j<m} gamma^j r_{t+j} and a per-sample
discount d = gamma^m * (1 - terminated), where m <= n is the number of steps actually taken
(fewer when the episode ended). The target is

    y = R + d * Q_target(s_{t+m}, a*),   a* = argmax_a Q_target(s', a)    (DQN)
                                          a* = argmax_a Q_online(s', a)    (Double DQN)

so a terminated episode never bootstraps while a truncated one (time limit) does. The TD error
delta = y - Q(s_t, a_t) feeds the loss (Huber with threshold 1, i.e. Nature's error clipping,
or squared error / 2), weighted by importance weights, and comes back for new priorities.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def n_step_returns(rewards: torch.Tensor, terminated: torch.Tensor, ended: torch.Tensor,
                   gamma: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Fold n consecutive steps into (returns [B], discounts [B], steps [B]).

    rewards float [B, n]: r_t .. r_{t+n-1}; terminated bool [B, n]: the episode terminated at
    that step; ended bool [B, n]: the episode ended at that step for any reason (terminated,
    truncated, or the data stops there). Steps after the first end are ignored; the discount
    is gamma^m, or 0 when that end was a termination. Step 0 always counts.
    """
    rewards = rewards.float()
    n = rewards.shape[1]
    stop = ended.bool().clone()
    stop[:, -1] = True
    # alive[:, j]: step j is still part of the return (no end strictly before it)
    before = torch.cumsum(stop.int(), dim=1) - stop.int()
    alive = before == 0
    powers = gamma ** torch.arange(n, dtype=rewards.dtype, device=rewards.device)
    returns = (rewards * powers * alive).sum(dim=1)
    steps = alive.sum(dim=1)
    last = steps - 1
    last_terminated = terminated.bool().gather(1, last[:, None]).squeeze(1)
    discounts = torch.where(last_terminated, torch.zeros_like(returns),
                            gamma ** steps.to(rewards.dtype))
    return returns, discounts, steps


def td_targets(rewards: torch.Tensor, discounts: torch.Tensor, next_q_target: torch.Tensor,
               next_q_online: torch.Tensor | None = None) -> torch.Tensor:
    """y [B] = rewards [B] + discounts [B] * Q_target(s', a*). With `next_q_online` [B, A]
    (Double DQN) a* is the online net's argmax, else the target net's own max."""
    if next_q_online is None:
        bootstrap = next_q_target.max(dim=1).values
    else:
        best = next_q_online.argmax(dim=1, keepdim=True)
        bootstrap = next_q_target.gather(1, best).squeeze(1)
    return rewards + discounts * bootstrap


def td_loss(q: torch.Tensor, actions: torch.Tensor, targets: torch.Tensor,
            weights: torch.Tensor | None = None, kind: str = "huber"
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss scalar, td_errors [B]) for Q-values q [B, A], actions int [B], targets [B].

    The loss is the mean over the batch of weight_i * rho(delta_i), with rho Huber (quadratic
    within |delta| <= 1, linear outside) or delta^2 / 2 ('mse'). Targets are treated as
    constants (detached). td_errors = target - Q(s, a), detached.
    """
    q_taken = q.gather(1, actions.long()[:, None]).squeeze(1)
    targets = targets.detach()
    if kind == "huber":
        per_sample = F.smooth_l1_loss(q_taken, targets, reduction="none", beta=1.0)
    elif kind == "mse":
        per_sample = 0.5 * (q_taken - targets) ** 2
    else:
        raise ValueError(f"unknown loss {kind!r} (huber, mse)")
    if weights is not None:
        per_sample = per_sample * weights
    return per_sample.mean(), (targets - q_taken).detach()
