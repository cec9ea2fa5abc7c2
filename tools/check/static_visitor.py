"""The static scan's AST visitor: applies the rule tables to every import, call, attribute,
name, assignment and class of a candidate's source and records what breaks them.

Import aliases and local names bound to module-rooted chains (`ops = torch.ops`) are followed,
so a rule sees the real name; chains rooted at a module or a builtin are judged by the object they
reach (`kernelwright.tools.check.static_resolve`). The tables are in
`kernelwright.tools.check.static_rules`; the entry point is `static_scan.scan_solution`.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses

from kernelwright.tools.check.static_names import constant_getattr, dotted, expression_root
from kernelwright.tools.check.static_resolve import OS_ALLOWED, resolver
from kernelwright.tools.check.static_rules import (
    ALLOWED_MODEL_BASES,
    FORBIDDEN_ATTRS,
    FORBIDDEN_CALLS,
    FORBIDDEN_MODULES,
    FORBIDDEN_NAME_STRINGS,
    FORBIDDEN_NAMES,
    FORBIDDEN_SOURCE_TEXT,
    GLOBAL_STATE_CALLS,
    HOST_COMPUTE_ATTRS,
    MODULE_ROOTS,
    NAME_REACHING_BUILTINS,
    RNG_STATE_ATTRS,
    STREAM_CALL_SUFFIXES,
)
from kernelwright.tools.check.verdicts import Verdict


def scan_resolver():
    """The chain resolver, judging by the scan's own tables (`setattr` is judged by its target, not as a name)."""
    return resolver(FORBIDDEN_MODULES, FORBIDDEN_CALLS, GLOBAL_STATE_CALLS - {"setattr"})


BUILTIN_NAMES = frozenset(dir(builtins))


@dataclasses.dataclass(frozen=True)
class Finding:
    """One rule broken: the verdict it earns, the source line, and what the user reads."""

    verdict: Verdict
    line: int
    message: str


class Scanner(ast.NodeVisitor):
    """Walks one solution's AST and collects a `Finding` for every rule it breaks."""

    def __init__(self, bound: set[str] | None = None) -> None:
        self.findings: list[Finding] = []
        self.module_aliases: dict[str, str] = {}  # local name -> real module path
        self.value_aliases: dict[str, str] = {}  # local name -> the module-rooted chain assigned to it
        self.bound = bound or set()
        self.resolver = scan_resolver()
        self._judged: set[tuple[int, int]] = set()
        # Whether `self` names the instance in the function being visited (innermost last): the
        # first parameter of a method, never rebound. A plain function's parameter called `self`
        # is whatever its caller passed (red team pass 8 passed torch and walked to torch._C).
        self._self_bound: list[bool] = [False]
        self._in_class: list[bool] = [False]
        self.own_private: set[str] = set()  # private names the solution defines itself (`visit_Module`)

    def flag(self, node: ast.AST, verdict: Verdict, message: str) -> None:
        self.findings.append(Finding(verdict, getattr(node, "lineno", 0), message))

    def resolve(self, name: str | None) -> str | None:
        """Rewrite a dotted name through import aliases (`F.relu` -> `torch.nn.functional.relu`)
        and through local names a module-rooted chain was assigned to (`ops = torch.ops`)."""
        if name is None:
            return None
        head, _, rest = name.partition(".")
        real = self.module_aliases.get(head) or self.value_aliases.get(head)
        if real is None:
            return name
        return f"{real}.{rest}" if rest else real

    def _roots(self) -> dict[str, str]:
        return {real.split(".")[0]: real.split(".")[0] for real in (*self.module_aliases.values(), *self.value_aliases.values())}

    def judge_chain(self, node: ast.AST, name: str | None) -> None:
        """Flag the object a chain reaches (resolved in the checker's interpreter) if it is forbidden."""
        if not name:
            return
        key = (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))
        if key in self._judged:
            return
        head = name.split(".")[0]
        if head not in self._roots() and (head in self.bound or head not in BUILTIN_NAMES):
            return
        reached = self.resolver.judge(name, self._roots())
        if reached is not None:
            self._judged.add(key)
            shown = reached.chain if reached.chain == name else f"{name} (through {reached.chain})"
            self.flag(node, reached.verdict, f"reaches {shown}: {reached.why}")

    # -- imports --------------------------------------------------------------------------
    def _check_module(self, node: ast.AST, module: str) -> None:
        root = module.split(".")[0]
        # Any part, not just the root: `from torch import sys` binds the sys module that torch imported.
        inner = next((part for part in module.split(".") if part in FORBIDDEN_MODULES), None)
        if inner:
            self.flag(node, Verdict.STATIC_VIOLATION, f"imports {module}: {FORBIDDEN_MODULES[inner]}")
        elif root != "os" and "os" in module.split(".")[1:]:
            self.flag(node, Verdict.STATIC_VIOLATION, f"imports {module}: reaches the os module through another module")
        elif any(part.startswith("_") for part in module.split(".") if part != "__future__"):
            self.flag(node, Verdict.STATIC_VIOLATION, f"imports {module}: private internals (e.g. dispatch modes) can switch the checks off")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._check_module(node, alias.name)
            if alias.asname:
                self.module_aliases[alias.asname] = alias.name
            else:
                root = alias.name.split(".")[0]
                self.module_aliases.setdefault(root, root)  # `import torch.nn` binds `torch`
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        self._check_module(node, module)
        for alias in node.names:
            self._check_module(node, f"{module}.{alias.name}")
            self.module_aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
            reached = self.resolver.judge(f"{module}.{alias.name}", {module.split(".")[0]: module.split(".")[0]}) if module else None
            if reached is not None and not any(f.line == node.lineno for f in self.findings):
                self.flag(node, reached.verdict, f"imports {module}.{alias.name} (reaches {reached.chain}): {reached.why}")
        self.generic_visit(node)

    # -- control flow -------------------------------------------------------------------
    def visit_Try(self, node: ast.AST) -> None:
        self.flag(
            node,
            Verdict.STATIC_VIOLATION,
            "uses try/except: a kernel failure must surface, not fall back to another path",
        )
        self.generic_visit(node)

    visit_TryStar = visit_Try

    def visit_With(self, node: ast.With) -> None:
        for item in node.items:
            call = item.context_expr
            name = self.resolve(dotted(call.func)) if isinstance(call, ast.Call) else None
            if name and name.endswith("suppress"):
                self.flag(node, Verdict.STATIC_VIOLATION, "uses contextlib.suppress: errors must surface")
        self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> None:
        self.flag(node, Verdict.GLOBAL_STATE, f"declares global {', '.join(node.names)}: state kept between calls")
        self.generic_visit(node)

    # -- calls and attributes -----------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        name = self.resolve(dotted(node.func))
        if name:
            short = name.removeprefix("torch.nn.functional.")
            if name in FORBIDDEN_CALLS or short in FORBIDDEN_CALLS:
                self.flag(node, Verdict.STATIC_VIOLATION, f"calls {name}: {FORBIDDEN_CALLS.get(name) or FORBIDDEN_CALLS[short]}")
            elif name.startswith("torch.") and name.rsplit(".", 1)[-1] in STREAM_CALL_SUFFIXES:
                self.flag(node, Verdict.STATIC_VIOLATION, f"calls {name}: uses another CUDA stream (work hidden from the timer)")
            elif name in GLOBAL_STATE_CALLS and not (
                name == "setattr" and node.args and self._is_self(node.args[0])
            ):
                self.flag(node, Verdict.GLOBAL_STATE, f"calls {name}: changes process-wide state")
            elif name == "getattr" and len(node.args) >= 2 and not isinstance(node.args[1], ast.Constant):
                if not self._is_self(node.args[0]):
                    self.flag(node, Verdict.STATIC_VIOLATION, "getattr with a computed name: hides what is reached")
        if isinstance(node.func, ast.Name):
            node.func.called = True  # a builtin called directly, which the rules above read
        got = constant_getattr(node)
        if got is not None:
            # getattr(x, "name") is x.name: the same rules, and the chain is resolved as a whole.
            self._check_attr(node, got[1], self.resolve(dotted(node)), outermost=not isinstance(getattr(node, "parent_attr", None), ast.Attribute))
            if isinstance(got[0], ast.Attribute) or constant_getattr(got[0]):
                got[0].parent_attr = node
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        outermost = not isinstance(getattr(node, "parent_attr", None), (ast.Attribute, ast.Call))
        self._check_attr(node, node.attr, self.resolve(dotted(node)), outermost, load=isinstance(node.ctx, ast.Load))
        if isinstance(node.value, ast.Attribute) or constant_getattr(node.value):
            node.value.parent_attr = node  # the outer chain is judged, not each prefix
        self.generic_visit(node)

    def _check_attr(self, node: ast.AST, attr: str, name: str | None, outermost: bool, load: bool = True) -> None:
        roots = set(self.module_aliases) | set(self.module_aliases.values()) | MODULE_ROOTS
        if attr in RNG_STATE_ATTRS:
            self.flag(node, Verdict.STATIC_VIOLATION, f"reaches .{attr}: the RNG's state or seed (with it the draws that built Model's "
                      "weights, or a trial's inputs, can be replayed)")
        elif attr in FORBIDDEN_ATTRS:
            self.flag(node, Verdict.STATIC_VIOLATION, f"reaches .{attr}: hidden interpreter state or host compute")
        elif attr in HOST_COMPUTE_ATTRS:
            self.flag(node, Verdict.TORCH_COMPUTE, f"calls .{attr}: it runs Python per element on the host (computed on the host, outside the kernels)")
        elif name and name in GLOBAL_STATE_CALLS and load:
            # Also a reference (`lower = torch.set_float32_matmul_precision`), not just a call.
            self.flag(node, Verdict.GLOBAL_STATE, f"uses {name}: changes process-wide state")
        elif name and name.split(".")[0] in roots and self._private(name):
            self.flag(node, Verdict.STATIC_VIOLATION, f"uses {name}: private internals can switch the checks off")
        elif self._private(f"x.{attr}") and attr not in self.own_private and not self._owned(node):
            # A private attribute of a value (a tensor's `_version`, a storage's `_write_file`): not
            # the solution's own (`self._cache`), and torch's internals behind it are not an API.
            self.flag(node, Verdict.STATIC_VIOLATION, f"uses .{attr} of a value that is not the model's own: private internals")
        elif name and name.startswith("os.") and name.removeprefix("os.") not in OS_ALLOWED and outermost:
            self.flag(node, Verdict.STATIC_VIOLATION, f"uses {name}: only os.getenv and os.path name helpers are allowed (no file, process or descriptor calls)")
        elif outermost:
            self.judge_chain(node, name)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in FORBIDDEN_NAMES:
            self.flag(node, Verdict.STATIC_VIOLATION, f"uses {node.id}: reaches the builtins namespace")
        elif (node.id in NAME_REACHING_BUILTINS and isinstance(node.ctx, ast.Load) and not getattr(node, "called", False)
              and node.id not in self.module_aliases and node.id not in self.bound):
            self.flag(node, Verdict.STATIC_VIOLATION, f"passes {node.id} as a value: attributes reached by names the scan cannot read")
        elif isinstance(node.ctx, ast.Load) and not isinstance(getattr(node, "parent_attr", None), ast.Attribute):
            self.judge_chain(node, self.resolve(node.id))
        self.generic_visit(node)

    def visit_Module(self, node: ast.Module) -> None:
        """First, the private names the solution gives its own objects (methods of its classes,
        attributes it assigns): a helper may use them on the model under another name. Not a
        name torch's own objects have (defining a `_version` does not open tensors' one)."""
        import torch

        defined = {n.name for c in ast.walk(node) if isinstance(c, ast.ClassDef) for n in c.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        defined |= {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store)}
        torch_owned = (torch.Tensor, torch.UntypedStorage, torch.TypedStorage, torch.nn.Module, torch.nn.Parameter, torch.device, torch.dtype)
        self.own_private = {n for n in defined if self._private(f"x.{n}") and not any(hasattr(t, n) for t in torch_owned)}
        self.generic_visit(node)

    def _is_self(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Name) and node.id == "self" and self._self_bound[-1]

    def _owned(self, node: ast.AST) -> bool:
        """An attribute of the model itself (`self._x`, `self.layers[0]._y`) or of its class."""
        inner = node.value if isinstance(node, ast.Attribute) else (node.args[0] if isinstance(node, ast.Call) and node.args else None)
        while isinstance(inner, (ast.Attribute, ast.Subscript)):
            inner = inner.value
        return isinstance(inner, ast.Name) and (self._is_self(inner) or (inner.id == "cls" and self._in_class[-2:-1] == [True]))

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        params = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
        rebinds = any(isinstance(n, ast.Name) and n.id == "self" and not isinstance(n.ctx, ast.Load)
                      for stmt in (node.body if isinstance(node.body, list) else [node.body]) for n in ast.walk(stmt))
        if "self" in params or any(a.arg == "self" for a in (*node.args.kwonlyargs, node.args.vararg, node.args.kwarg) if a):
            bound = self._in_class[-1] and bool(params) and params[0] == "self" and not isinstance(node, ast.Lambda)
        else:
            bound = self._self_bound[-1]  # a closure sees its method's `self`
        self._self_bound.append(bound and not rebinds)
        self._in_class.append(False)
        try:
            self.generic_visit(node)
        finally:
            self._self_bound.pop()
            self._in_class.pop()

    visit_AsyncFunctionDef = visit_FunctionDef
    visit_Lambda = visit_FunctionDef

    @staticmethod
    def _private(name: str) -> bool:
        return any(part.startswith("_") and not (part.startswith("__") and part.endswith("__")) for part in name.split(".")[1:])

    def _check_store(self, target: ast.AST) -> None:
        """Assigning into a module (torch.backends.x = ..., F.relu = ...) patches the world."""
        if isinstance(target, (ast.Tuple, ast.List)):
            for t in target.elts:
                self._check_store(t)
            return
        if not isinstance(target, ast.Attribute):
            return
        name = self.resolve(dotted(target))
        if name is None:
            if expression_root(target) in ("self", "cls"):  # `self.layers[0].bias = ...`: the model's own state
                return
            # `[hmac][0].new = ...`, `f().x = ...`: an object the scan cannot name may be a module.
            self.flag(target, Verdict.GLOBAL_STATE, f"assigns .{target.attr} on an expression: may patch a module")
            return
        head = name.split(".")[0]
        if head in ("self", "cls"):
            return
        if name.startswith("torch.backends") or "allow_tf32" in name or "allow_fp16" in name or "allow_bf16" in name:
            self.flag(target, Verdict.GLOBAL_STATE, f"sets {name}: changes numerics for everyone in the process")
        elif head in self.module_aliases.values() or head in self.module_aliases or head in {"torch", "triton", "time", "os", "math", "numpy", "np"}:
            self.flag(target, Verdict.GLOBAL_STATE, f"assigns {name}: patches a module")

    def visit_Assign(self, node: ast.Assign) -> None:
        for t in node.targets:
            self._check_store(t)
        chain = self.resolve(dotted(node.value))
        for t in node.targets:
            if isinstance(t, ast.Name):
                head = chain.split(".")[0] if chain else None
                if head and head in {r.split(".")[0] for r in self.module_aliases.values()} | MODULE_ROOTS:
                    self.value_aliases[t.id] = chain  # `ops = torch.ops`: later `ops.x = ...` patches torch
                else:
                    self.value_aliases.pop(t.id, None)
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for t in node.targets:
            self._check_store(t)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._check_store(node.target)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._in_class.append(True)
        try:
            self._visit_class(node)
        finally:
            self._in_class.pop()

    def _visit_class(self, node: ast.ClassDef) -> None:
        if node.name == "ModelNew":
            for base in node.bases:
                name = dotted(base)
                if name not in ALLOWED_MODEL_BASES and not self._is_nn_module(name):
                    self.flag(
                        node,
                        Verdict.STATIC_VIOLATION,
                        f"ModelNew derives from {name or 'an expression'}: it must be an nn.Module "
                        "that computes through its own kernels, not a subclass of the reference",
                    )
        self.generic_visit(node)

    def _is_nn_module(self, name: str | None) -> bool:
        """Whether `name` resolves to torch.nn.Module itself (`from torch import nn as tnn`)."""
        import torch

        return bool(name) and self.resolver.resolve(self.resolve(name), self._roots()) is torch.nn.Module

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and node.value in FORBIDDEN_NAME_STRINGS:
            self.flag(node, Verdict.STATIC_VIOLATION, f"names {node.value!r} in a string: hidden interpreter state reached by name")
        if isinstance(node.value, str):
            for text, why in FORBIDDEN_SOURCE_TEXT.items():
                if text in node.value:
                    self.flag(node, Verdict.STATIC_VIOLATION, f"source text uses {text}: {why}")
