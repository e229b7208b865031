"""Packaging that pyproject.toml cannot say: the top-level configs/ folder installs as the
package rlgo.configs, so rlgo.config.shipped_config finds the YAML files the same way in a
clone (editable install) and in a wheel. Everything else is in pyproject.toml."""

from setuptools import find_namespace_packages, setup

CONFIGS = ["rlgo.configs", *(f"rlgo.configs.{name}" for name in find_namespace_packages("configs"))]

setup(packages=[*find_namespace_packages(include=["rlgo*", "agents*", "envs*", "selfplay*"]),
                *CONFIGS],
      package_dir={"rlgo.configs": "configs"})
