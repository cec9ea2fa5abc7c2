"""The solution's Triton kernels rebuilt from its source text, without running the solution.

The resources child compiles each kernel the candidate launched for a real GPU. Importing the
solution there would run the candidate's code in the process whose answer decides whether its
kernels compile, so this module reads the file's syntax tree instead and executes only:

- its top-level `import` / `from ... import` statements (library code, which the static scan has
  already restricted to allowed modules);
- top-level assignments of a name to a constant expression: literals, names bound before,
  arithmetic, comparisons, attribute chains on imported modules (`tl.float16`) and calls of pure
  functions on such values (`tl.constexpr`, `math.*`, `triton.next_power_of_2`, `int`, `min`, ...,
  and `os.getenv`/`os.environ.get`, which read this sandbox's environment: a GPU process's, without
  `TRITON_INTERPRET`), which is what a kernel may read as a global;
- each top-level function definition, decorators removed, made a `triton.jit` function (a
  host-side helper that Triton cannot take, one with `**kwargs` say, is left out: a kernel that
  calls it fails to compile, as it would on a GPU).

Nothing else of the file runs: a kernel that only works because module code patched something,
or that is defined anywhere but at the top level, or that calls a plain Python function, does
not compile here, as it would not on a GPU.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import operator
import os
import types
from collections import Counter
from pathlib import Path
from typing import Any

from kernelwright.tools.pyast import parse

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv,
           ast.Div: operator.truediv, ast.Mod: operator.mod, ast.Pow: operator.pow, ast.LShift: operator.lshift,
           ast.RShift: operator.rshift, ast.BitOr: operator.or_, ast.BitAnd: operator.and_}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert, ast.Not: operator.not_}
MAX_POWER = 64  # 2 ** 64 is a size; 10 ** 10 ** 10 is a way to stall the compile


class NotConstant(Exception):
    """A module-level value this loader does not evaluate (the name stays unbound)."""


def _constant(node: ast.expr, scope: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and node.id in scope:
        return scope[node.id]
    if isinstance(node, ast.Name) and node.id in _BUILTINS:
        return _BUILTINS[node.id]
    if isinstance(node, ast.Attribute):
        base = _constant(node.value, scope)
        if not isinstance(base, types.ModuleType) or node.attr.startswith("_"):
            raise NotConstant(node.attr)
        return getattr(base, node.attr)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _constant(node.left, scope), _constant(node.right, scope)
        if isinstance(node.op, ast.Pow) and (not isinstance(right, int) or abs(right) > MAX_POWER):
            raise NotConstant("**")
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_constant(node.operand, scope))
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(_constant(e, scope) for e in node.elts)
    if isinstance(node, ast.Compare):
        left, ok = _constant(node.left, scope), True
        for op, right_node in zip(node.ops, node.comparators):
            right = _constant(right_node, scope)
            ok, left = ok and _COMPARE[type(op)](left, right), right
        return ok
    if isinstance(node, ast.BoolOp):
        values = [_constant(v, scope) for v in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.IfExp):
        return _constant(node.body if _constant(node.test, scope) else node.orelse, scope)
    if isinstance(node, ast.Call):
        fn = os.environ.get if _is_environ_get(node.func, scope) else _constant(node.func, scope)
        if not _pure(fn):
            raise NotConstant("call")
        return fn(*(_constant(a, scope) for a in node.args), **{k.arg: _constant(k.value, scope) for k in node.keywords if k.arg})
    raise NotConstant(type(node).__name__)


_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
            ast.GtE: operator.ge, ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b, ast.Is: operator.is_,
            ast.IsNot: operator.is_not}
# Builtins a constant expression may call (by name); module functions are checked in `_pure`.
_BUILTINS = {"int": int, "float": float, "bool": bool, "min": min, "max": max, "abs": abs, "round": round, "len": len}


def _is_environ_get(func: ast.expr, scope: dict[str, Any]) -> bool:
    """`os.environ.get`: a read of the environment, which here is the sandbox's (no TRITON_INTERPRET):
    what a GPU process would read."""
    return (isinstance(func, ast.Attribute) and func.attr == "get" and isinstance(func.value, ast.Attribute)
            and func.value.attr == "environ" and isinstance(func.value.value, ast.Name) and scope.get(func.value.value.id) is os)


def _pure(fn: Any) -> bool:
    """Functions without side effects that module-level kernel constants are computed with."""
    import triton
    import triton.language as tl

    return (fn in (os.getenv, os.environ.get, tl.constexpr, triton.next_power_of_2, triton.cdiv) or fn in _BUILTINS.values()
            or getattr(fn, "__module__", None) == "math" or (callable(fn) and getattr(math, getattr(fn, "__name__", ""), None) is fn))


def _jit_options(fn: ast.FunctionDef, scope: dict[str, Any]) -> dict[str, Any]:
    """Literal keyword arguments of a `@triton.jit(...)` decorator (do_not_specialize, ...)."""
    for deco in fn.decorator_list:
        if isinstance(deco, ast.Call) and (getattr(deco.func, "attr", None) == "jit" or getattr(deco.func, "id", None) == "jit"):
            options = {}
            for kw in deco.keywords:
                try:
                    options[kw.arg] = _constant(kw.value, scope)
                except NotConstant:
                    continue
            return options
    return {}


@dataclasses.dataclass(frozen=True)
class SourceKernels:
    kernels: dict[str, Any]  # name -> triton.jit function
    first_lines: dict[str, int]  # name -> its first line (the first decorator's, as a code object's co_firstlineno)
    unsound: dict[str, str]  # name -> why its compile from source may not be what the interpreter ran


def kernels_from_source(path: str) -> SourceKernels:
    """Every top-level function of the file at `path` as a `triton.jit` function, with the
    module-level constants and imports they may reference; nothing else of the file executed."""
    import triton

    source = Path(path).read_text()
    tree = parse(source, filename=path)
    scope: dict[str, Any] = {"__name__": "kw_kernels", "__file__": path, "__builtins__": __builtins__, "math": math}
    functions: list[ast.FunctionDef] = []
    for node in tree.body:
        if (isinstance(node, (ast.Import, ast.ImportFrom)) and not (isinstance(node, ast.ImportFrom) and node.level)) or _import_fallback(node):
            try:
                exec(compile(ast.Module(body=[node], type_ignores=[]), path, "exec"), scope)
            except ImportError:
                continue  # a kernel that needs it fails to compile, naming it
        elif isinstance(node, ast.Assign):
            for target in node.targets:  # `a = b = 1`, `A, B = tl.constexpr(16), tl.constexpr(64)`
                _bind(target, node.value, scope)
        elif isinstance(node, ast.FunctionDef):
            functions.append(node)
    unsound = _unsound_kernels(tree, functions, source.splitlines(), scope)
    kernels: dict[str, Any] = {}
    for fn in functions:
        options = _jit_options(fn, scope)
        bare = ast.FunctionDef(name=fn.name, args=fn.args, body=fn.body, decorator_list=[], returns=fn.returns,
                               type_comment=fn.type_comment, **({"type_params": fn.type_params} if hasattr(fn, "type_params") else {}))
        ast.copy_location(bare, fn)
        # Compiled under the file's own name and line numbers: Triton reads the kernel's source
        # back from the file (inspect.getsource), as it does for the imported module.
        namespace: dict[str, Any] = {}
        try:
            exec(compile(ast.fix_missing_locations(ast.Module(body=[bare], type_ignores=[])), path, "exec"), scope, namespace)
            kernels[fn.name] = triton.jit(namespace[fn.name], **options)
        except Exception:  # noqa: BLE001 - a host-side helper Triton cannot take (**kwargs, a default it cannot evaluate): no kernel
            continue
    scope.update(kernels)  # kernels call each other through the shared globals
    first_lines = {fn.name: min([fn.lineno, *(d.lineno for d in fn.decorator_list)]) for fn in functions}
    return SourceKernels(kernels, first_lines, unsound)


def _import_fallback(node: ast.stmt) -> bool:
    """`try: from A import x` / `except ImportError: from B import x`: imports only (a libdevice
    location that moved between Triton releases)."""
    if not isinstance(node, ast.Try) or node.orelse or node.finalbody:
        return False
    stmts = node.body + [b for h in node.handlers for b in h.body]
    return all(isinstance(st, (ast.Import, ast.ImportFrom, ast.Pass)) and not getattr(st, "level", 0) for st in stmts)


def _bind(target: ast.expr, value: ast.expr, scope: dict[str, Any]) -> None:
    names = [target] if isinstance(target, ast.Name) else list(getattr(target, "elts", []))
    values = [value] if isinstance(target, ast.Name) else list(getattr(value, "elts", []))
    if len(names) != len(values) or not all(isinstance(n, ast.Name) for n in names):
        for n in ast.walk(target):
            if isinstance(n, ast.Name):
                scope.pop(n.id, None)
        return
    for name, expr in zip(names, values):
        try:
            scope[name.id] = _constant(expr, scope)
        except (NotConstant, ArithmeticError, TypeError, ValueError, AttributeError):
            scope.pop(name.id, None)  # bound to something not constant: unbound here


def _module_bindings(tree: ast.Module) -> tuple[Counter[str], set[str]]:
    """How many times each module-level name is bound, and the names bound by statements this
    loader does not evaluate (an annotated or augmented assignment, a loop or `with` target, a
    class, a name bound inside an `if` or `try` at module level, `global` in a function)."""
    counts: Counter[str] = Counter()
    unevaluated: set[str] = set()

    def targets(node: ast.AST) -> list[str]:
        return [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]

    def visit(stmts: list[ast.stmt], top: bool) -> None:
        for st in stmts:
            bound: list[str] = []
            evaluated = top
            if isinstance(st, (ast.Import, ast.ImportFrom)):
                bound = [(a.asname or a.name).split(".")[0] for a in st.names]
            elif isinstance(st, ast.Assign):
                bound = [n for t in st.targets for n in targets(t)]
            elif isinstance(st, (ast.AnnAssign, ast.AugAssign)):
                bound, evaluated = targets(st.target), False
            elif isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                bound, evaluated = [st.name], top and isinstance(st, ast.FunctionDef)
            elif isinstance(st, (ast.For, ast.AsyncFor)):
                bound, evaluated = targets(st.target), False
            elif isinstance(st, (ast.With, ast.AsyncWith)):
                bound, evaluated = [n for item in st.items if item.optional_vars for n in targets(item.optional_vars)], False
            elif isinstance(st, ast.Delete):
                bound, evaluated = [n for t in st.targets for n in targets(t)], False
            elif top and _import_fallback(st):  # one name bound by whichever import works
                counts.update({(a.asname or a.name).split(".")[0] for s in st.body for a in getattr(s, "names", [])})
                continue
            counts.update(bound)
            if not evaluated:
                unevaluated.update(bound)
            for field in ("body", "orelse", "finalbody", "handlers"):  # module scope continues inside these
                inner = getattr(st, field, None)
                if isinstance(inner, list) and not isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    visit([s for s in inner if isinstance(s, ast.stmt)] + [b for h in inner if isinstance(h, ast.ExceptHandler) for b in h.body], False)
    visit(tree.body, True)
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            unevaluated.update(node.names)  # rebound from inside a function
        elif isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
            unevaluated.add(node.target.id)
    return counts, unevaluated


def _chain(node: ast.Attribute) -> tuple[str, list[str]] | None:
    attrs: list[str] = []
    while isinstance(node, ast.Attribute):
        attrs.insert(0, node.attr)
        node = node.value
    return (node.id, attrs) if isinstance(node, ast.Name) else None


def _same_everywhere(obj: Any) -> bool:
    """What a kernel may reach through a module: Triton's language (functions, dtypes, libdevice)
    and pure math; not module state that differs between a GPU process and the interpreter
    (`triton.knobs.runtime.interpret`, `os.getenv`, anything of torch)."""
    import triton

    if isinstance(obj, types.ModuleType):
        return obj.__name__ == "math" or obj.__name__.startswith("triton.language") or obj is triton
    module = getattr(obj, "__module__", None) or getattr(type(obj), "__module__", "")
    return (module.startswith("triton.language") or module == "math" or obj in (triton.cdiv, triton.next_power_of_2)
            or isinstance(obj, (int, float, bool, str)))


def _unsafe_reach(fn_body: list[ast.AST], scope: dict[str, Any]) -> tuple[str, int] | None:
    """The first attribute chain of a kernel's body, rooted at a module, that reaches anything but
    Triton's language and math."""
    for node in fn_body:
        if not isinstance(node, ast.Attribute) or not isinstance(getattr(node, "ctx", None), ast.Load):
            continue
        found = _chain(node)
        if found is None or not isinstance(scope.get(found[0]), types.ModuleType):
            continue
        obj = scope[found[0]]
        for i, attr in enumerate(found[1]):
            if not isinstance(obj, types.ModuleType):
                break  # an attribute of an object reached below: judged there
            obj = getattr(obj, attr, None)
            if not _same_everywhere(obj):
                return ".".join([found[0], *found[1][: i + 1]]), node.lineno
    return None


def _unsound_kernels(tree: ast.Module, functions: list[ast.FunctionDef], lines: list[str], scope: dict[str, Any]) -> dict[str, str]:
    """Kernels whose compile from source might differ from what the interpreter ran, with why:
    the interpreter runs a kernel with the module's live globals and re-reads its source, so
    every global a kernel reads must be bound once, at the top level, by a statement this loader
    evaluates, and its body may not define functions (the interpreter runs the last `def` in it)."""
    counts, unevaluated = _module_bindings(tree)
    by_name = {fn.name: fn for fn in functions}
    why: dict[str, str] = {}
    for fn in functions:
        params = {a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)}
        body = [n for st in fn.body for n in ast.walk(st)]  # not the decorators: heuristics take lambdas
        nested = [n for n in body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef))]
        if nested:
            why[fn.name] = f"kernel {fn.name!r} defines a function or class inside its body (line {nested[0].lineno}): Triton kernels cannot"
            continue
        # The interpreter finds the function to run by the text of its source (the last line that
        # starts with "def "): one inside a string would be run instead of the kernel.
        stray = next((n for n in range(fn.lineno, (fn.end_lineno or fn.lineno)) if lines[n].lstrip().startswith("def ")), None)
        if stray is not None:
            why[fn.name] = (f"kernel {fn.name!r} has a line starting with 'def ' inside its body (line {stray + 1}): "
                            "Triton's interpreter would run the code from there, not the kernel")
            continue
        reach = _unsafe_reach(body, scope)
        if reach is not None:
            why[fn.name] = (f"kernel {fn.name!r} reads {reach[0]} (line {reach[1]}): module state, not Triton's language; it can "
                            "differ between a GPU and the CPU interpreter (a kernel may reach triton.language, its libdevice and math)")
            continue
        params |= {n.id for n in body if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}  # the kernel's locals
        for node in body:
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in params:
                if counts[node.id] > 1 or node.id in unevaluated:
                    why[fn.name] = (f"kernel {fn.name!r} reads the global {node.id!r} (line {node.lineno}), which the module binds "
                                    f"{'more than once' if counts[node.id] > 1 else 'in a statement the check does not evaluate'}: "
                                    "bind each global a kernel reads once, at the top level, to a constant, a module or a function")
                    break
    changed = True
    while changed:  # a kernel calling an unsound kernel is unsound
        changed = False
        for fn in functions:
            if fn.name in why:
                continue
            called = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and n.id in by_name and n.id != fn.name}
            bad = next((c for c in sorted(called) if c in why), None)
            if bad:
                why[fn.name], changed = f"kernel {fn.name!r} calls {bad!r}: {why[bad]}", True
    return why
