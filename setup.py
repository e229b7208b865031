"""Packaging that pyproject.toml cannot say: the top-level configs/ folder installs as the
package rlgo.configs, so rlgo.config.shipped_config finds the YAML files the same way in a
clone (editable install) and in a wheel. Everything else is in pyproject.toml."""

import warnings

from setuptools import find_namespace_packages, setup
from setuptools.warnings import InformationOnly

CONFIGS = ["rlgo.configs", *(f"rlgo.configs.{name}" for name in find_namespace_packages("configs"))]

# `pip install -e .` would warn that folders named like the packages may shadow them on
# import: here those folders are the packages (rlgo/, agents/, envs/, selfplay/), so the note
# only alarms a new user (tests/rlgo/test_packaging.py).
warnings.filterwarnings("ignore", r"(?s).*folders in your working directory with the same",
                        InformationOnly)

setup(packages=[*find_namespace_packages(include=["rlgo*", "agents*", "envs*", "selfplay*"]),
                *CONFIGS],
      package_dir={"rlgo.configs": "configs"})
