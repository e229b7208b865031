"""The shipped configs (YAML). This folder installs as the package rlgo.configs (setup.py), so
that `rlgo.config.shipped_config("atari/pong")` finds them in a clone and in a wheel alike."""
