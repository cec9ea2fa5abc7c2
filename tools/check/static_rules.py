"""The static scan's rule tables: what a candidate's source may not import, call, read or write.

Data only, no logic: the visitor in `kernelwright.tools.check.static_visitor` applies them, and
`kernelwright.tools.check.static_resolve` judges the objects that other names reach. Kept apart
so that a rule is added (or its reason reworded) in one place, without reading the visitor.
Each reason is what the user reads after "imports x: " or "calls x: " in the rejection.
"""

from __future__ import annotations

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
    "linecache": "changes the source text Triton's interpreter runs a kernel from",
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
    "torch.save": "serializes tensors (hands their bytes to Python on the host)",
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
    "contextlib.redirect_stdout": "captures printed output (under the interpreter, values a kernel prints)",
    "contextlib.redirect_stderr": "captures printed output (under the interpreter, values a kernel prints)",
    "operator.attrgetter": "reaches attributes by name (hidden from the scan)",
    "operator.methodcaller": "calls methods by name (hidden from the scan)",
    # Formatter.get_field resolves "0._C.x" on its arguments: an attribute chain in a string.
    "string.Formatter": "resolves attribute paths written in strings (hidden from the scan)",
}
# Builtins that reach attributes by a name computed at run time: allowed only as a direct call
# (which the rules read); passed as a value (`lookup = getattr`, `reduce(getattr, ...)`) they are not.
NAME_REACHING_BUILTINS = ("getattr", "setattr", "delattr", "hasattr")
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
RNG_STATE_ATTRS = ("get_rng_state", "get_rng_state_all", "initial_seed", "get_state", "fork_rng", "default_generator")
# Attribute names that only serve to reach frames, globals or other hidden state.
FORBIDDEN_ATTRS = {
    "f_back", "f_locals", "f_globals", "f_builtins", "tb_frame", "gi_frame", "cr_frame",
    "__globals__", "__builtins__", "__subclasses__", "__code__", "__closure__", "_getframe",
    "environ", "__dict__", "__setattr__", "__delattr__", "__getattribute__", "__class__", "__bases__",
    "__mro__", "__self__", "__func__", "__wrapped__", "__reduce__", "__reduce_ex__", "__import__", "__loader__",
    "__spec__", "__dlpack__", "from_dlpack", "numpy", "tolist", "__base__", "environb", "__array__",
    "__array_interface__", "__cuda_array_interface__", "gi_code", "cr_code", "f_code", "ag_frame",
    # The RNG's state and seed: with them a solution replays the draws that built Model's weights
    # and precomputes from them before the calls (red team pass 9). A kernel needs neither.
    *RNG_STATE_ATTRS,
    # torch.from_file / UntypedStorage.from_file open and map a path from C++ (shared=True writes
    # it): no audit event sees that open (red team pass 12 wrote into the event log so).
    "from_file",
    # Python kernels for torch's own operators and the switch that routes aten calls to them:
    # they run inside the checker's steps (red team pass 13). Also refused at run time (guards).
    "py_impl", "enable_python_dispatcher", "_EnablePythonDispatcher", "PythonDispatcher",
    # Walks a dotted path written in a string (red team pass 14 reached private names and the live
    # accountant through torch.fx.Interpreter.fetch_attr).
    "fetch_attr",
}
# Names only a frame or namespace dig needs: forbidden as a string too (`getattr(f, "__globals__")`,
# `operator.attrgetter("f_back")`), since a string is how a name hides from the attribute check.
FORBIDDEN_NAME_STRINGS = {a for a in FORBIDDEN_ATTRS if a.startswith(("__", "f_", "tb_", "gi_", "cr_", "ag_", "_get"))} | {"environ", *RNG_STATE_ATTRS}
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
    "TORCH_LIBRARY": "registers kernels for torch's operators, which then run inside the checker's own steps",
}
# Bases ModelNew may name as written; any other base must resolve to torch.nn.Module itself.
ALLOWED_MODEL_BASES = {"nn.Module", "torch.nn.Module", "Module"}
# Names taken as modules even where the solution did not import them (private-name checks, `ops = torch.ops`).
MODULE_ROOTS = {"torch", "triton", "os", "math"}
