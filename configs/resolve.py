"""The effective config: defaults, then the environment, then a YAML file, then flags, validated once.

Each layer is a nested mapping; nested mappings merge key by key and anything else replaces (so
lists replace). Every leaf remembers the layer that set it, which `kernelwright config show`
prints and which a validation error names ("budgets.max_iters = -1 (from --max-iters): ...").
"""

from __future__ import annotations

import copy
import dataclasses
import os
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from kernelwright.configs.flags import FLAG_OF
from kernelwright.configs.model import Config
from kernelwright.tools.problem import InputError

ENV_MODEL = "KERNELWRIGHT_MODEL"

# A config before validation: nested mappings of the YAML/JSON values a user's file, the flags or a
# recorded run's stored config hold (any key a user wrote, misspelt ones too). `Config` is its
# validated form; the layers are merged as these, then validated once.
RawConfig = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Layer:
    source: str  # "default", "env KERNELWRIGHT_MODEL", "file my.yaml", "flags", "run RUN_ID"
    values: RawConfig


@dataclasses.dataclass(frozen=True)
class ResolvedConfig:
    config: Config
    sources: dict[str, str]  # dotted key path of each leaf -> the layer that set it

    def as_dict(self) -> RawConfig:
        return self.config.model_dump(mode="json")

    def rows(self) -> list[tuple[str, Any, str]]:
        """(key path, value, source) of every leaf, in the model's order."""
        return [(key, value, self.sources.get(key, "default")) for key, value in leaves(self.as_dict())]


def merge(base: RawConfig, over: RawConfig) -> RawConfig:
    """Nested dicts merge key by key; anything else in `over` replaces."""
    out = copy.deepcopy(dict(base))
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def leaves(tree: RawConfig, prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted path, value) of every non-mapping value; an empty mapping is a leaf of its own."""
    out: list[tuple[str, Any]] = []
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.extend(leaves(value, path + "."))
        else:
            out.append((path, value))
    return out


def default_config() -> RawConfig:
    return Config().model_dump(mode="json")


def read_config_file(path: str | Path) -> RawConfig:
    """A YAML config file's own keys (not validated yet); InputError if it is missing or not a mapping."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"config file not found: {p} (give the path to a YAML file)")
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"config file {p} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    except OSError as exc:
        raise InputError(f"config file {p} cannot be read: {exc.strerror}") from exc
    if not isinstance(data, dict):
        raise InputError(f"config file {p} must hold a mapping at the top level (see `kernelwright config show`)")
    return data


def flag_layer(overrides: RawConfig) -> Layer:
    return Layer("flags", overrides)


def resolve(layers: list[Layer]) -> ResolvedConfig:
    """Merge the layers over the defaults and validate the result; InputError naming the key path,
    the bad value, the layer it came from and what is allowed."""
    merged: RawConfig = {}
    sources: dict[str, str] = {}
    for layer in [Layer("default", default_config()), *layers]:
        merged = merge(merged, layer.values)
        for key, _ in leaves(dict(layer.values)):
            # A new value under a key drops the sources of what it replaced below it.
            for old in [k for k in sources if k.startswith(key + ".")]:
                del sources[old]
            sources[key] = _label(layer.source, key)
    try:
        config = Config.model_validate(merged)
    except ValidationError as exc:
        raise InputError(describe_error(exc, merged, sources)) from None
    return ResolvedConfig(config, {key: source_of(key, sources) for key, _ in leaves(config.model_dump(mode="json"))})


def _label(source: str, key: str) -> str:
    if source == "flags":
        return f"flag {FLAG_OF.get(key, key)}"
    return source


def load(path: str | Path | None = None, overrides: RawConfig | None = None,
         environ: Mapping[str, str] | None = None) -> ResolvedConfig:
    """The effective config of a new run: defaults, $KERNELWRIGHT_MODEL, the file at `path`, flags."""
    env = os.environ if environ is None else environ
    layers: list[Layer] = []
    if env.get(ENV_MODEL):
        layers.append(Layer(f"env {ENV_MODEL}", {"model": env[ENV_MODEL]}))
    if path is not None:
        layers.append(Layer(f"file {path}", read_config_file(path)))
    if overrides:
        layers.append(flag_layer(overrides))
    return resolve(layers)


def validate(values: RawConfig, source: str) -> Config:
    """A complete config from elsewhere (a recorded run's), checked by the same rules."""
    return resolve([Layer(source, values)]).config


def describe_error(exc: ValidationError, values: RawConfig, sources: Mapping[str, str]) -> str:
    """One line for the first error: key path, bad value, its source, and what is allowed."""
    error = exc.errors()[0]
    loc = [str(part) for part in error["loc"]]
    # Unions add the member's name to the path ("tier.literal[...]"): keep the config's keys only.
    loc = [part for part in loc if not part.startswith(("literal[", "int", "float", "str", "bool", "list[", "dict["))]
    path = ".".join(loc)
    source = source_of(path, sources)
    if error["type"] == "extra_forbidden":
        allowed = _keys_at(loc[:-1])
        return (f"config: unknown key {path} (from {source}); allowed keys"
                f"{' under ' + '.'.join(loc[:-1]) if loc[:-1] else ''}: {', '.join(allowed)}")
    if error["type"] == "missing":  # the section that lacks it came from the layer that set its other keys
        parent = ".".join(loc[:-1])
        source = next((s for k, s in sources.items() if k.startswith(parent + ".")), source)
        return f"config: {path} is required (from {source}); give it a value (see `kernelwright config show`)"
    value = _value_at(values, loc)
    message = error["msg"]
    if error["type"] == "string_pattern_mismatch" and loc[-1] == "device":
        message = "expected auto, cpu, cuda or cuda:N"
    return f"config: {path} = {value!r} (from {source}) is not allowed: {message[0].lower() + message[1:]}"


def _value_at(values: Any, loc: list[str]) -> Any:
    for part in loc:
        if isinstance(values, Mapping) and part in values:
            values = values[part]
        elif isinstance(values, list) and part.isdigit() and int(part) < len(values):
            values = values[int(part)]
        else:
            return None
    return values


def _keys_at(loc: list[str]) -> list[str]:
    """The keys a section of the model allows ([] for free-form mappings)."""
    model: Any = Config
    for part in loc:
        if get_origin(model) is dict:  # a mapping of sections (roles.NAME, llm.prices.MODEL): its values' model
            model = get_args(model)[-1]
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return []
        model = model.model_fields[part].annotation
        if get_origin(model) in (Union, types.UnionType):  # `Section | None`
            model = next((a for a in get_args(model) if isinstance(a, type) and issubclass(a, BaseModel)), model)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def source_of(path: str, sources: Mapping[str, str]) -> str:
    """The layer that set `path`, or the nearest enclosing key that was set as a whole."""
    while path:
        if path in sources:
            return sources[path]
        path = path.rpartition(".")[0]
    return "default"
