"""DQN training and evaluation on Atari games (and classic-control tasks such as CartPole):
the loop that joins envs.atari, agents.dqn, selfplay.replay and selfplay.rundir.

    train(config, env_id, run_dir, resume, save_replay)   -> TrainResult      (one process)
    train_distributed(config, env_id, run_dir, settings)  -> ApexResult       (Ape-X on Ray)
    evaluate(checkpoint, env_id, episodes, eps, video)     -> EvalResult

train.py is the single-process loop; apex.py drives Ape-X on the shared runtime with the
actors, learner and replay shards of apex_actor.py, built from the same networks, losses,
learner and frame replay. Both write the same run directory and checkpoints; policy_file.py
loads a checkpoint's network to play, and exports it as a small policy file (what ships).
"""

from selfplay.atari.apex import ApexResult, ApexSettings, train_distributed
from selfplay.atari.config import DQNConfig, ReplayConfig, config_dict, config_from_dict
from selfplay.atari.evaluate import EvalResult, evaluate, play_episodes
from selfplay.atari.train import Trainer, TrainResult, train

__all__ = [
    "ApexResult",
    "ApexSettings",
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
    "train_distributed",
]
