"""DQN and its key improvements (Double, Dueling, n-step, prioritized weights), as plain torch
pieces: Q-networks, pure loss functions, a batched epsilon-greedy actor and a learner. The
training loop that wires them to environments and replay lives in selfplay.atari."""

from agents.dqn.actor import EpsilonGreedyActor, LinearSchedule, apex_epsilons
from agents.dqn.learner import DQNLearner, LearnerConfig, UpdateResult
from agents.dqn.losses import n_step_returns, td_loss, td_targets
from agents.dqn.networks import MLP, NatureCNN, build_q_network

__all__ = [
    "MLP",
    "DQNLearner",
    "EpsilonGreedyActor",
    "LearnerConfig",
    "LinearSchedule",
    "NatureCNN",
    "UpdateResult",
    "apex_epsilons",
    "build_q_network",
    "n_step_returns",
    "td_loss",
    "td_targets",
]
