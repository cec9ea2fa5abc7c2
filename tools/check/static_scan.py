"""Static scan of a candidate solution: the cheats that are visible in the source.

Runs in the parent on the AST (the code is never executed here). It is the first line of the
integrity guards; the runtime guards in `kernelwright.tools.check.guards` catch what slips through.
A solution that needs none of these constructs loses nothing: honest kernels allocate, launch
and return.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses

from kernelwright.tools import pyast
from kernelwright.tools.check.static_resolve import OS_ALLOWED, resolver
from kernelwright.tools.check.verdicts import Verdict

# Modules whose import alone is a violation: concurrency, process control, introspection, raw memory.
FORBIDDEN_MODULES = {
    "threading": "starts threads (work hidden from the timer)",
    "_thread": "starts threads (work hidden from the timer)",
    "multiprocessing": "starts processes",
    "concurrent": "starts threads or processes",
    "subprocess": "starts processes",
    "socket": "opens network connections",
    "asyncio": "runs work concurrently",
    "gc": "digs objects (such as reference outputs) out of the garbage collector",
    "inspect": "inspects caller frames",
    "ctypes": "touches raw memory",
    "signal": "changes signal handling",
    "atexit": "runs code after the checks",
    "builtins": "patches builtins",
    "importlib": "imports code the scan cannot see",
    "pickle": "loads serialized objects",
    "marshal": "loads serialized code",
    "shelve": "loads serialized objects",
    "sys": "reaches interpreter internals (frames, modules)",
    "pathlib": "reads files (reference data lives on disk)",
    "shutil": "touches files",
    "tempfile": "touches files",
    "io": "reads or writes files",
    "_io": "reads or writes files",
    "codecs": "reads or writes files",
    "fileinput": "reads files",
    "mmap": "maps files or raw memory",
    "fcntl": "manipulates file descriptors",
    "posix": "reaches the operating system directly",
    "kernelwright": "reaches into the checker's own code",
    "numpy": "computes on the host outside the kernels",
    "cupy": "computes outside the solution's kernels",
    "jax": "computes outside the solution's kernels",
    "scipy": "computes outside the solution's kernels",
    "numba": "compiles code the checker does not account for",
    "tensorflow": "computes outside the solution's kernels",
    "copyreg": "changes how objects are serialized",
    "weakref": "keeps hidden references between calls",
    "types": "builds functions and code objects the scan cannot see",
    # Modules that run source text or import modules by name: code the scan never parses.
    "code": "runs source text the scan cannot see",
    "codeop": "compiles source text the scan cannot see",
    "timeit": "runs source text the scan cannot see",
    "runpy": "runs code the scan cannot see",
    "pkgutil": "imports modules by name",
    "pydoc": "imports modules by name",
    "doctest": "runs source text the scan cannot see",
    "pdb": "runs source text the scan cannot see",
    "bdb": "runs source text the scan cannot see",
    "trace": "runs code the scan cannot see",
    "zipimport": "imports code the scan cannot see",
}
# Calls that are violations wherever they appear (dotted names as written in the source).
FORBIDDEN_CALLS = {
    "eval": "runs code the scan cannot see",
    "exec": "runs code the scan cannot see",
    "compile": "builds code the scan cannot see",
    "__import__": "imports code the scan cannot see",
    "globals": "reaches module state",
    "vars": "reaches object internals",
    "open": "reads or writes files",
    "delattr": "removes attributes of other objects",
    "torch.load": "loads tensors from disk",
    "numpy.load": "loads arrays from disk",
    "np.load": "loads arrays from disk",
    "os.system": "runs shell commands",
    "os.popen": "runs shell commands",
    "os.fork": "starts processes",
    "os.kill": "signals processes",
    "os._exit": "exits before the checks finish",
    "os.putenv": "changes the environment",
    "os.listdir": "reads the file system",
    "os.scandir": "reads the file system",
    "os.walk": "reads the file system",
    "torch.cuda.Stream": "creates a CUDA stream (work hidden from the timer)",
    "torch.cuda.stream": "switches CUDA streams (work hidden from the timer)",
    "torch.cuda.set_stream": "switches CUDA streams (work hidden from the timer)",
    "torch.cuda.ExternalStream": "uses a foreign CUDA stream",
    "torch.Stream": "creates a stream",
    "torch.cuda.set_per_process_memory_fraction": "changes the allocator",
    "torch.cuda.memory.set_per_process_memory_fraction": "changes the allocator",
    "operator.attrgetter": "reaches attributes by name (hidden from the scan)",
    "operator.methodcaller": "calls methods by name (hidden from the scan)",
}
# Calls that change process-wide numerics or RNG: the reference would run under other rules.
GLOBAL_STATE_CALLS = {
    "torch.set_float32_matmul_precision",
    "torch.set_default_dtype",
    "torch.set_default_tensor_type",
    "torch.set_default_device",
    "torch.manual_seed",
    "torch.seed",
    "torch.cuda.manual_seed",
    "torch.cuda.manual_seed_all",
    "torch.random.manual_seed",
    "torch.set_rng_state",
    "torch.cuda.set_rng_state",
    "torch.use_deterministic_algorithms",
    "torch.set_flush_denormal",
    "torch.set_num_threads",
    "torch.set_grad_enabled",
    "torch.backends.cuda.enable_flash_sdp",
    "torch.backends.cuda.enable_math_sdp",
    "torch.backends.cuda.enable_mem_efficient_sdp",
    "np.random.seed",
    "numpy.random.seed",
    "random.seed",
    "setattr",
}
# Attribute names that only serve to reach frames, globals or other hidden state.
FORBIDDEN_ATTRS = {
    "f_back", "f_locals", "f_globals", "f_builtins", "tb_frame", "gi_frame", "cr_frame",
    "__globals__", "__builtins__", "__subclasses__", "__code__", "__closure__", "_getframe",
    "environ", "__dict__", "__setattr__", "__delattr__", "__getattribute__", "__class__", "__bases__",
    "__mro__", "__self__", "__func__", "__wrapped__", "__reduce__", "__reduce_ex__", "__import__", "__loader__",
    "__spec__", "__dlpack__", "from_dlpack", "numpy", "tolist", "__base__", "environb", "__array__",
    "__array_interface__", "__cuda_array_interface__", "gi_code", "cr_code", "f_code", "ag_frame",
}
# Names only a frame or namespace dig needs: forbidden as a string too (`getattr(f, "__globals__")`,
# `operator.attrgetter("f_back")`), since a string is how a name hides from the attribute check.
FORBIDDEN_NAME_STRINGS = {a for a in FORBIDDEN_ATTRS if a.startswith(("__", "f_", "tb_", "gi_", "cr_", "ag_", "_get"))} | {"environ"}
# Methods that run a Python callable per element on the host: compute outside the kernels.
HOST_COMPUTE_ATTRS = {"apply_", "map_", "map2_"}
# Names that reach the builtins namespace itself.
FORBIDDEN_NAMES = {"__builtins__", "__loader__", "__spec__", "__import__"}
# Any torch call ending in one of these names touches streams (catches torch.cuda.streams.Stream too).
STREAM_CALL_SUFFIXES = ("Stream", "stream", "set_stream", "ExternalStream", "StreamContext")
# Strings in CUDA sources that hide work or change cache behaviour.
FORBIDDEN_SOURCE_TEXT = {
    "cudaStreamCreate": "creates a CUDA stream (work hidden from the timer)",
    "accessPolicyWindow": "sets L2 persistence",
    "cudaLimitPersistingL2CacheSize": "sets L2 persistence",
    "cudaDeviceSetLimit": "changes device limits",
    "std::thread": "starts threads",
    "pthread_create": "starts threads",
    "cudaEventRecord": "touches the timer's CUDA events",
}
ALLOWED_MODEL_BASES = {"nn.Module", "torch.nn.Module", "Module"}
MODULE_ROOTS = {"torch", "triton", "os", "math"}


def _resolver():
    return resolver(FORBIDDEN_MODULES, FORBIDDEN_CALLS, GLOBAL_STATE_CALLS - {"setattr"})


__builtins_names__ = frozenset(dir(builtins))


@dataclasses.dataclass(frozen=True)
class Finding:
    verdict: Verdict
    line: int
    message: str


def constant_getattr(node: ast.AST) -> tuple[ast.AST, str] | None:
    """(object, name) for `getattr(obj, "name")` / `getattr(obj, "name", default)`."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "getattr"
        and len(node.args) >= 2
        and isinstance(node.args[1], ast.Constant)
        and isinstance(node.args[1].value, str)
    ):
        return node.args[0], node.args[1].value
    return None


def _expression_root(node: ast.AST) -> str | None:
    """The name an attribute/subscript/call chain starts at (`self` in `self.a[0].b`), else None."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def dotted(node: ast.AST) -> str | None:
    """`a.b.c` for Name/Attribute chains (a constant-name getattr counts as an attribute), else None."""
    parts = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
            continue
        got = constant_getattr(node)
        if got is None:
            break
        node, name = got
        parts.append(name)
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _bound_names(tree: ast.AST) -> set[str]:
    """Names the solution binds itself (so `open` there is its own, not the builtin)."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
    return bound


class _Scanner(ast.NodeVisitor):
    def __init__(self, bound: set[str] | None = None) -> None:
        self.findings: list[Finding] = []
        self.module_aliases: dict[str, str] = {}  # local name -> real module path
        self.value_aliases: dict[str, str] = {}  # local name -> the module-rooted chain assigned to it
        self.bound = bound or set()
        self.resolver = _resolver()
        self._judged: set[tuple[int, int]] = set()

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
        if head not in self._roots() and (head in self.bound or head not in __builtins_names__):
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
                name == "setattr" and node.args and dotted(node.args[0]) == "self"
            ):
                self.flag(node, Verdict.GLOBAL_STATE, f"calls {name}: changes process-wide state")
            elif name == "getattr" and len(node.args) >= 2 and not isinstance(node.args[1], ast.Constant):
                target = dotted(node.args[0])
                if target != "self":
                    self.flag(node, Verdict.STATIC_VIOLATION, "getattr with a computed name: hides what is reached")
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
        if attr in FORBIDDEN_ATTRS:
            self.flag(node, Verdict.STATIC_VIOLATION, f"reaches .{attr}: hidden interpreter state or host compute")
        elif attr in HOST_COMPUTE_ATTRS:
            self.flag(node, Verdict.TORCH_COMPUTE, f"calls .{attr}: it runs Python per element on the host (computed on the host, outside the kernels)")
        elif name and name in GLOBAL_STATE_CALLS and load:
            # Also a reference (`lower = torch.set_float32_matmul_precision`), not just a call.
            self.flag(node, Verdict.GLOBAL_STATE, f"uses {name}: changes process-wide state")
        elif name and name.split(".")[0] in roots and self._private(name):
            self.flag(node, Verdict.STATIC_VIOLATION, f"uses {name}: private internals can switch the checks off")
        elif name and name.startswith("os.") and name.removeprefix("os.") not in OS_ALLOWED and outermost:
            self.flag(node, Verdict.STATIC_VIOLATION, f"uses {name}: only os.getenv and os.path name helpers are allowed (no file, process or descriptor calls)")
        elif outermost:
            self.judge_chain(node, name)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in FORBIDDEN_NAMES:
            self.flag(node, Verdict.STATIC_VIOLATION, f"uses {node.id}: reaches the builtins namespace")
        elif isinstance(node.ctx, ast.Load) and not isinstance(getattr(node, "parent_attr", None), ast.Attribute):
            self.judge_chain(node, self.resolve(node.id))
        self.generic_visit(node)

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
            if _expression_root(target) in ("self", "cls"):  # `self.layers[0].bias = ...`: the model's own state
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


def scan_solution(source: str) -> list[Finding]:
    """All static findings for a solution's source, in line order."""
    tree = pyast.parse(source)
    scanner = _Scanner(_bound_names(tree))
    scanner.visit(tree)
    return sorted(scanner.findings, key=lambda f: f.line)
