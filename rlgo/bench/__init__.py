"""Benchmarks behind `rlgo bench ...`: each prints a table and can write JSON.

Speed is measured here, never asserted by tests: machines are shared and noisy, so every
figure is the median of several rounds, and comparisons are made side by side in one run.
"""
