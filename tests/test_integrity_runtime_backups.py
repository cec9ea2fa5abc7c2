"""Integrity suite, defence in depth: cheats the static scan rejects are rejected by the runtime
guards too when the scan is off (`static_scan=False`), with the verdict each guard gives.
"""

from __future__ import annotations

import integrity_checks
import pytest
from integrity_candidates import BY_ID, Candidate
from integrity_checks import result_of

# The suite's fixtures, bound here: this file gets its own pool of checks and parent environment.
outcomes, parent_env = integrity_checks.outcomes, integrity_checks.parent_env

# candidate id -> the verdict the runtime guards give when the static scan is off
RUNTIME_BACKUPS = {
    "softmax_rows/matmul_precision": "global_state",
    "softmax_rows/subclass_of_reference": "no_custom_kernel",
    # The signed event log: lines written by the candidate's process are detected.
    "add_mul/forge_event_log": "static_violation",
    # torch.equal replaced at import: the sealed names see it (the worker had also captured
    # torch.equal before the candidate could replace it, so its bitwise input check held either way).
    "add_mul/patch_torch_equal_hide_mutation": "global_state",
    # Caught statically now; with the scan off, the load-time and call-time snapshots catch them.
    "softmax_rows/tf32_flag_at_import": "global_state",
    "softmax_rows/matmul_precision_aliased": "global_state",
    # ModelNew's constructor is bracketed by global-state snapshots too.
    "softmax_rows/matmul_precision_in_init": "global_state",
    # The runtime audit refuses gc's object lists and exec of a string from the solution.
    "gelu_scale/torch_sys_gc_clears_accounting": "static_violation",
    "softmax_rows/exec_alias_runs_string": "static_violation",
    # Host reads of the forward's data, Tensor.apply_, and allowed ops known by identity, not name.
    "gelu_scale/numpy_through_functional": "torch_compute",
    "gelu_scale/apply_on_host": "torch_compute",
    "gelu_scale/rename_ops_via_alias": "torch_compute",
    # Threads are counted at Thread.start, whatever module the class was reached through.
    "gelu_scale/thread_via_torch_module": "static_violation",
    # A hook for threads started later (threading.setprofile: no audit event) is global state.
    "gelu_scale/thread_hook_via_torch_module": "global_state",
    "gelu_scale/thread_trace_hook_in_init": "global_state",
    # The checker's modules are not in sys.modules while the candidate runs.
    "add_mul/widen_allowed_ops_via_sys_modules": "torch_compute",
    # Red team pass 8: the accountant popped through torch._C (`dispatch_bypass`), the pickler
    # replaced (sealed), a storage's bytes handed to Python, eval() building a table, a kernel at construction.
    "softmax_rows/self_named_getattr_pops_accountant": "global_state",
    "softmax_rows/reduce_getattr_value_pops_accountant": "global_state",
    "softmax_rows/string_formatter_pops_accountant": "global_state",
    "softmax_rows/pickle_pickler_replaced": "global_state",
    "softmax_rows/storage_write_file_host_read": "torch_compute",
    "embedding_layernorm/table_built_in_eval_override": "torch_compute",
    "embedding_layernorm/table_by_triton_kernel_in_init": "static_violation",
    "embedding_layernorm/table_by_triton_kernel_launch_refusal_caught": "static_violation",
    # Red team pass 9: the RNG's state read in __init__ counts as a global-state change.
    "embedding_layernorm/table_from_rng_state_replay_in_init": "global_state",
    # Refused by the static scan since pass 9 (the RNG's seed and generator by name); their run-time catch stays proven here.
    "softmax_rows/rng_generator_tamper": "global_state",
    "l2_normalize_rows/seed_leak_clamp_only_when_seed_repeats": "global_state",
    "softmax_rows/alias_originals_hides_input_mutation": "compile_error",
    # Red team passes 12-14, refused by the scan by name; what stops them when a route hides the name:
    # a Python kernel for aten::clone (the Python dispatcher in the global state), the event log's
    # JSON (a C encoder made at start: the scrubbed state shows), the dispatch keys' thread-local
    # sets (wrapped switches), the event log written through torch.from_file (not text: tampered).
    "gelu_scale/python_dispatcher_clone_kernel": "global_state",
    "gelu_scale/json_encoder_scrubs_signed_events": "global_state",
    "gelu_scale/tls_exclude_python_key": "global_state",
    "gelu_scale/from_file_writes_event_log": "static_violation",
}
NO_SCAN = [
    Candidate(f"{cid}+no_static_scan", BY_ID[cid].path, BY_ID[cid].problem, (verdict,), BY_ID[cid].what, (("static_scan", False),))
    for cid, verdict in sorted(RUNTIME_BACKUPS.items())
]


@pytest.mark.parametrize("candidate", [pytest.param(c, id=c.id) for c in NO_SCAN])
def test_runtime_guards_back_up_the_static_scan(candidate: Candidate, outcomes):
    r = result_of(outcomes, candidate)
    assert r.verdict.value in candidate.expect, [x.message for x in r.reasons]
    assert not any(x.check == "static_scan" for x in r.reasons)
    if candidate.id.startswith("gelu_scale/thread_via_torch_module"):
        assert any(x.check == "threads" for x in r.reasons), r.reasons
