"""Strict YAML config loading into frozen dataclasses.

Each component declares its config as a frozen dataclass beside the code that reads it; YAML
files under configs/ hold values; `--set a.b=c` overrides a value on the command line. Loading
is strict: an unknown key is an error that names the key and the file, and values are checked
against the field types, so a typo never silently falls back to a default.

The YAML files under configs/ ship inside the package as rlgo.configs (setup.py maps the
folder), so `shipped_config("atari/pong")` finds the same file in a clone (editable install)
and in an installed wheel, and `--config` takes a path or a shipped name.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib.resources
import re
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from envs.errors import UserError

T = TypeVar("T")
SHIPPED = "rlgo.configs"  # the repository's configs/, installed under this name (setup.py)


class ConfigError(UserError, ValueError):
    """A config file or override that does not fit its dataclass."""


class YamlLoader(yaml.SafeLoader):
    """SafeLoader that reads 1e-8 as a number: PyYAML follows YAML 1.1, whose floats need a dot
    and a signed exponent, so `--set adam_eps=1e-8` would otherwise arrive as a string."""


YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."))


def read_yaml(text: str) -> Any:
    """Parse one YAML document the way every rlgo config is read."""
    try:
        return yaml.load(text, Loader=YamlLoader)  # safe: a SafeLoader subclass
    except ValueError as err:  # an integer of over 4,300 digits (Python's int(str) limit)
        raise yaml.YAMLError(str(err)) from None


def shipped_configs(folder: str = "") -> list[str]:
    """The names of the shipped configs ("atari/pong", "go/mcts", ...), sorted; only those
    in `folder` ("atari") when it is given."""
    prefix = f"{folder.strip('/')}/" if folder else ""
    return [name for name in sorted(_shipped_files()) if name.startswith(prefix)]


def shipped_config(name: str | Path) -> Path:
    """The file of shipped config `name`: "atari/pong", "atari/pong.yaml" and
    "configs/atari/pong.yaml" all name the repository's configs/atari/pong.yaml. A name that
    is not shipped is a ConfigError that lists those that are (never a silent default)."""
    files = _shipped_files()
    if not files:
        raise ConfigError(f"no shipped configs: the package {SHIPPED} is not installed "
                          "(reinstall rlgo: pip install -e . in a clone)")
    key = _shipped_name(name)
    if key not in files:
        raise ConfigError(f"no shipped config {str(name)!r} (shipped: {', '.join(sorted(files))})")
    return files[key]


def config_file(path: str | Path) -> Path:
    """The file a --config value names: the path itself when it exists, else the shipped
    config of that name, so `--config atari/pong` and `--config configs/atari/pong.yaml`
    work from any directory and from an installed wheel."""
    path = Path(path)
    return path if path.exists() else _shipped_files().get(_shipped_name(path), path)


def _shipped_name(path: str | Path) -> str:
    return Path(path).as_posix().removeprefix("configs/").removesuffix(".yaml")


def _shipped_files() -> dict[str, Path]:
    """Name -> file of every shipped config; empty when rlgo.configs is not installed (an
    editable install made before configs/ became package data)."""
    try:
        root = Path(str(importlib.resources.files(SHIPPED)))
    except ModuleNotFoundError:
        return {}
    return {path.relative_to(root).with_suffix("").as_posix(): path
            for path in root.rglob("*.yaml")}


def load_config(cls: type[T], path: str | Path | None = None,
                overrides: typing.Sequence[str] = (), base: T | None = None) -> T:
    """Build `cls` from `base` (default: the class's defaults) changed by the keys of the YAML
    file at `path` (a file, or a shipped config's name) and then by `key=value` overrides."""
    data: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        source = str(path)
        loaded = _read_file(path)
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{path} must hold a mapping of keys to values")
        data = loaded or {}
    if base is not None:
        data = _merged(to_dict(base), data)
    from_file = copy.deepcopy(data)
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value, got {item!r}")
        try:
            parsed = read_yaml(value) if value else ""
        except yaml.YAMLError as err:
            raise ConfigError(f"--set {item!r} is not valid YAML: {_one_line(err)}") from None
        _assign(data, key.strip().split("."), parsed)
    try:
        return _build(cls, data, source, "")
    except ConfigError:
        if not overrides or not _builds(cls, from_file, source):
            raise
    return _build(cls, data, "--set", "")  # the file is fine: the error names the override


def _read_file(path: str | Path) -> Any:
    """The YAML document in the config file `path`; ConfigError (one line) when it cannot be
    read, is not UTF-8 or is not YAML."""
    try:
        text = config_file(path).read_text(encoding="utf-8")
    except OSError as err:
        names = shipped_configs() if isinstance(err, FileNotFoundError) else []
        hint = f" (nor is it a shipped config: {', '.join(names)})" if names else ""
        raise ConfigError(f"cannot read config {path}: {err.strerror or err}{hint}") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path} is not UTF-8 text (byte {err.start})") from None
    try:
        return read_yaml(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"{path} is not valid YAML: {_one_line(err)}") from None


def _one_line(err: yaml.YAMLError) -> str:
    """PyYAML's message without the lines that quote and underline the text."""
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    mark = getattr(err, "problem_mark", None)
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})" if mark else problem


def _builds(cls: type, data: Any, source: str) -> bool:
    try:
        _build(cls, data, source, "")
    except ConfigError:
        return False
    return True


def to_dict(config: Any) -> dict[str, Any]:
    """A config dataclass as plain data (for writing the resolved config into a run dir)."""
    return dataclasses.asdict(config)


def dump_config(config: Any) -> str:
    """A config dataclass as YAML text."""
    return yaml.safe_dump(to_dict(config), sort_keys=False)


def _merged(base: dict, changes: dict) -> dict:
    """`base` with `changes` written over it, section by section."""
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            value = _merged(out[key], value)
        out[key] = value
    return out


def _assign(data: dict, keys: list[str], value: Any) -> None:
    for key in keys[:-1]:
        node = data.setdefault(key, {})
        if not isinstance(node, dict):
            raise ConfigError(f"--set {'.'.join(keys)}: {key} is not a section")
        data = node
    data[keys[-1]] = value


def _build(cls: type[T], data: Any, source: str, prefix: str) -> T:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: {prefix.rstrip('.') or 'config'} must be a mapping")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"{source}: unknown key '{prefix}{unknown[0]}' "
                          f"(known: {', '.join(sorted(fields))})")
    values = {}
    for name, value in data.items():
        default = fields[name].default
        if dataclasses.is_dataclass(default) and isinstance(value, dict):
            # a partial section keeps the rest of the field's own default (e.g. a driver's
            # runtime: RuntimeSettings(learner_cpus=0.0)), not the section class's defaults
            value = _merged(to_dict(default), value)
        values[name] = _coerce(hints[name], value, source, prefix + name)
    try:
        return cls(**values)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{source}: {err}") from None


def _coerce(hint: Any, value: Any, source: str, key: str) -> Any:
    """Check (and gently convert) one value against its annotation."""
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, source, key + ".")
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(option, value, source, key)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0] if errors else f"{source}: bad value for {key}")
    if origin is typing.Literal:
        if value not in typing.get_args(hint):
            raise ConfigError(f"{source}: {key} must be one of {typing.get_args(hint)}, "
                              f"got {value!r}")
        return value
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{source}: {key} must be a list, got {value!r}")
        args = typing.get_args(hint)
        inner = args[0] if args else Any
        items = [_coerce(inner, v, source, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if hint is Any:
        return value
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():  # total_steps=2e6
            return int(value)
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                return float(value)
            except OverflowError:  # an integer beyond the largest float
                raise ConfigError(f"{source}: {key} is too large a number") from None
    elif hint is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
    elif isinstance(hint, type) and isinstance(value, hint):
        return value
    name = getattr(hint, "__name__", str(hint))
    raise ConfigError(f"{source}: {key} must be {name}, got {value!r}")
