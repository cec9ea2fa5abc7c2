"""Which callable plays each role: built-ins by policy, replacements and additions from config
(`impl: "module:attr"`) or from installed packages (entry-point group `kernelwright.roles`).

A role is a callable `(state, ctx) -> dict` (a partial state update), or a class whose instances
are such callables (constructed with the config's `options` as keyword arguments).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from pydantic import ValidationError

from kernelwright.configs.model import RoleConfig, RoleOptions
from kernelwright.tools.problem import InputError

# Built-in role -> the graph node it drives.
BUILTIN_NODES = {"planner": "plan", "coder": "code", "debugger": "debug", "analyst": "analyze"}
# Nodes a plugin may be added after.
ANCHOR_NODES = ("plan", "code", "check", "debug", "profile", "analyze")
ENTRY_POINT_GROUP = "kernelwright.roles"


@dataclasses.dataclass
class RoleSpec:
    name: str
    fn: Any
    source: str  # "built-in (llm)", "config: my_pkg.roles:audit", "entry point: pkg"
    node: str  # the graph node that runs it
    after: str | None = None  # for added roles: the node it follows


def builtin_roles(policy: str) -> dict[str, RoleSpec]:
    if policy == "llm":
        from kernelwright.agents import llm_roles

        impls = {"planner": llm_roles.planner, "coder": llm_roles.coder, "debugger": llm_roles.debugger, "analyst": llm_roles.analyst}
    elif policy == "expert":
        from kernelwright.agents.expert import roles as expert_roles

        impls = {"planner": expert_roles.planner, "coder": expert_roles.coder, "debugger": expert_roles.debugger, "analyst": expert_roles.analyst}
    else:
        raise InputError(f"--policy {policy}: expected llm or expert")
    label = f"built-in ({policy})"
    return {name: RoleSpec(name, fn, label, BUILTIN_NODES[name]) for name, fn in impls.items()}


EXPERT_MISSING = (
    "a built-in role has no implementation: "
    "pass --model NAME (and --base-url URL for a local server) or set KERNELWRIGHT_MODEL, or fill the role from a config"
)


def require_runnable(roles: dict[str, RoleSpec]) -> None:
    """Raise InputError if a role has no implementation (every built-in role has one today)."""
    if any(spec.fn is None for spec in roles.values()):
        raise InputError(EXPERT_MISSING)


def _entry_point_roles() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


# `options`: the role's own settings from the config, free-form (each role reads its keys).
def load_impl(impl: str, options: RoleOptions | None, where: str) -> tuple[Any, str]:
    """The callable behind `impl` ("module:attr", or the name of an entry point)."""
    if ":" in impl:
        module_name, _, attr = impl.partition(":")
        try:
            obj = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise InputError(f"{where}: cannot load role {impl!r}: {exc}") from exc
        source = f"config: {impl}"
    else:
        eps = _entry_point_roles()
        if impl not in eps:
            raise InputError(f"{where}: no role {impl!r} ('module:attr', or one of the installed: {', '.join(sorted(eps)) or 'none'})")
        obj = eps[impl].load()
        source = f"entry point: {eps[impl].value}"
    if inspect.isclass(obj):
        obj = obj(**(options or {}))
    if not callable(obj):
        raise InputError(f"{where}: role {impl!r} is not callable")
    return obj, source


def _role_config(name: str, spec: RoleConfig | Mapping[str, object], where: str) -> RoleConfig:
    """A role's config entry as a record; the same entry as plain data (YAML, a config's
    `model_dump()`) is validated here."""
    if isinstance(spec, RoleConfig):
        return spec
    if not isinstance(spec, Mapping) or "impl" not in spec:
        raise InputError(f"{where}: roles.{name} needs an 'impl: module:attr'")
    try:
        return RoleConfig.model_validate(dict(spec))
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        raise InputError(f"{where}: roles.{name}.{key}: {first['msg']}") from None


def resolve_roles(policy: str, config_roles: Mapping[str, RoleConfig | Mapping[str, object]],
                  where: str = "config") -> tuple[dict[str, RoleSpec], list[RoleSpec]]:
    """Built-in roles with the config's replacements applied, and the added roles in order."""
    roles = builtin_roles(policy)
    added: list[RoleSpec] = []
    for name, entry in (config_roles or {}).items():
        spec = _role_config(name, entry, where)
        fn, source = load_impl(spec.impl, spec.options, f"{where}: roles.{name}")
        after = spec.after
        if name in roles and after is None:
            roles[name] = RoleSpec(name, fn, source, roles[name].node)
        elif after is not None:
            if after not in ANCHOR_NODES and after not in {a.node for a in added}:
                raise InputError(f"{where}: roles.{name}.after must be one of {', '.join(ANCHOR_NODES)} (got {after!r})")
            if name in roles or name in ANCHOR_NODES or name == "finish":
                raise InputError(f"{where}: roles.{name}: an added role needs a name of its own")
            added.append(RoleSpec(name, fn, source, node=name, after=after))
        else:
            raise InputError(f"{where}: roles.{name} is not a built-in role ({', '.join(BUILTIN_NODES)}): give it 'after: NODE' to add it")
    return roles, added


def available_entry_points() -> list[dict[str, str]]:
    return [{"name": name, "value": ep.value} for name, ep in sorted(_entry_point_roles().items())]
