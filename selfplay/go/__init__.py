"""The AlphaGo training pipeline: teacher games, datasets, and the training loops of the
networks (SL policy, rollout policy, RL policy, value), on the shared self-play runtime."""
