"""DQN training and evaluation on Atari games (and classic-control tasks such as CartPole):
the loop that joins envs.atari, agents.dqn, selfplay.replay and selfplay.rundir.

    train(config, env_id, run_dir, resume, save_replay)   -> TrainResult
    evaluate(checkpoint, env_id, episodes, eps, video)     -> EvalResult

Single process for now; the Ape-X actors/learner on Ray will reuse the same pieces.
"""

from selfplay.atari.config import DQNConfig, ReplayConfig, config_dict, config_from_dict
from selfplay.atari.evaluate import EvalResult, evaluate, play_episodes
from selfplay.atari.train import Trainer, TrainResult, train

__all__ = [
    "DQNConfig",
    "EvalResult",
    "ReplayConfig",
    "TrainResult",
    "Trainer",
    "config_dict",
    "config_from_dict",
    "evaluate",
    "play_episodes",
    "train",
]
