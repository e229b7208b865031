"""Tests of the AlphaGo training pipeline (teacher games, datasets, training loops)."""
