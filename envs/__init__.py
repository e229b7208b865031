"""The worlds: Go rules and records (envs.go) and Atari games (envs.atari).

Nothing here imports torch or ray; agents and the self-play runtime build on these types.
"""
