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

Distributional (C51, Bellemare et al. 2017; n-step and Double as in Rainbow): the target
network's return distribution p' [atoms] at (s_{t+m}, a*) is moved to R + d * z and projected
back onto the fixed support z (`categorical_projection`); a* is the argmax of the online (Double)
or target network's mean Q. The loss is the cross-entropy -sum_i m_i log p_i(s_t, a_t) between
that projected target m and the online distribution, and it is also the new priority (Rainbow
prioritises by the KL loss; the cross-entropy differs from it by the target's entropy, which
does not depend on the online network).
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


def categorical_projection(rewards: torch.Tensor, discounts: torch.Tensor, probs: torch.Tensor,
                           support: torch.Tensor) -> torch.Tensor:
    """Project the distribution `probs` [B, K] on `support` z [K] (evenly spaced), shifted to
    rewards [B] + discounts [B] * z and clipped to [z_0, z_{K-1}], back onto z: [B, K].

    Each shifted atom Tz_j gives its mass to the two support atoms around it in proportion to
    closeness: m_i = sum_j clamp(1 - |Tz_j - z_i| / dz, 0, 1) p_j. That is the usual
    floor/ceil split written as one [B, K, K] product, so an atom landing exactly on z_i gives
    it all its mass with no special case. Mass is conserved: each row of m sums to 1."""
    z = support.to(probs.dtype)
    dz = (z[-1] - z[0]) / (z.numel() - 1)
    shifted = (rewards[:, None] + discounts[:, None] * z[None, :]).clamp(z[0], z[-1])  # [B, K]
    closeness = (1 - (shifted[:, None, :] - z[None, :, None]).abs() / dz).clamp(min=0)
    return torch.bmm(closeness, probs[:, :, None]).squeeze(2)  # [B, K_i]


def categorical_targets(rewards: torch.Tensor, discounts: torch.Tensor,
                        next_probs_target: torch.Tensor, support: torch.Tensor,
                        next_q_online: torch.Tensor | None = None) -> torch.Tensor:
    """The projected target distribution m [B, K] from the target net's next-state
    distributions next_probs_target [B, A, K]. a* is the argmax of `next_q_online` [B, A]
    (Double), else of the target net's own mean Q."""
    if next_q_online is None:
        next_q_online = (next_probs_target * support).sum(dim=2)
    best = next_q_online.argmax(dim=1)
    chosen = next_probs_target[torch.arange(len(best), device=best.device), best]  # [B, K]
    return categorical_projection(rewards, discounts, chosen, support)


def categorical_loss(log_probs: torch.Tensor, actions: torch.Tensor, target_probs: torch.Tensor,
                     weights: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss scalar, cross-entropy [B]) for the online log-probabilities log_probs [B, A, K],
    actions int [B] and target distributions target_probs [B, K] (constants). The loss is the
    mean of weight_i * CE_i; CE comes back detached, for priorities."""
    taken = log_probs[torch.arange(len(actions), device=actions.device), actions.long()]
    cross_entropy = -(target_probs.detach() * taken).sum(dim=1)
    per_sample = cross_entropy if weights is None else cross_entropy * weights
    return per_sample.mean(), cross_entropy.detach()
