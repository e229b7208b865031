"""DQN and the six parts of Rainbow (Double, Dueling, n-step, prioritized weights, C51
distributional heads, noisy nets), as plain torch pieces: Q-networks, pure loss functions, a
batched epsilon-greedy actor and a learner. The training loop that wires them to environments
and replay lives in selfplay.atari."""

from agents.dqn.actor import EpsilonGreedyActor, LinearSchedule, apex_epsilons
from agents.dqn.learner import DQNLearner, LearnerConfig, UpdateResult
from agents.dqn.losses import (
    categorical_loss,
    categorical_projection,
    categorical_targets,
    n_step_returns,
    td_loss,
    td_targets,
)
from agents.dqn.networks import (
    MLP,
    DataEfficientCNN,
    HeadOptions,
    NatureCNN,
    QNetwork,
    build_q_network,
)
from agents.dqn.noisy import NoisyLinear, reset_noise

__all__ = [
    "MLP",
    "DataEfficientCNN",
    "HeadOptions",
    "NoisyLinear",
    "QNetwork",
    "categorical_loss",
    "categorical_projection",
    "categorical_targets",
    "reset_noise",
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
