"""The integrity suite's candidates and the cheats they prove (shared by tests/test_integrity_*.py).

Each file `tests/integrity/candidates/<problem>/<case>.py` is a solution for
`examples/problems/<problem>.py` (or a KernelBench-shaped problem in tests/data/problems). Its
first line says the verdict it must get (`# expect: <verdict>`; `a|b` lists the verdicts a fix may
reasonably give, used only for known bugs below), its second line what it does. Cheats must be
rejected with the right verdict and an actionable reason; honest twins must be accepted.

`COVERAGE_BY_CLASS` names, per class of cheat, every cheat of the evaluation protocol with the
candidates that prove it; each class has its own test file (`tests/test_integrity_<class>.py`),
which runs the candidates that class lists first. Here so that the test files share one reading
of the candidate files and one coverage table that tests/test_integrity_suite.py checks whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from paths import CANDIDATES, PROBLEMS, TEST_PROBLEMS


@dataclass(frozen=True)
class Candidate:
    """One check to run: a solution file for a problem, the verdict(s) it must get, and options."""

    id: str  # "<problem>/<case>" for candidate files
    path: Path
    problem: Path
    expect: tuple[str, ...]
    what: str
    options: tuple[tuple[str, object], ...] = ()  # CheckOptions fields that differ from the suite's


def read_candidate(path: Path) -> Candidate:
    lines = path.read_text().splitlines()
    m = re.fullmatch(r"# expect: ([a-z_|]+)", lines[0].strip()) if lines else None
    assert m, f"{path}: the first line must be '# expect: <verdict>'"
    assert len(lines) > 1 and lines[1].startswith("# ") and len(lines[1]) > 10, f"{path}: the second line must say what it does"
    problem = PROBLEMS / f"{path.parent.name}.py"
    if not problem.is_file():  # KernelBench-shaped problems of the suite's own (tests/data/problems)
        problem = TEST_PROBLEMS / f"{path.parent.name}.py"
    return Candidate(
        id=f"{path.parent.name}/{path.stem}",
        path=path,
        problem=problem,
        expect=tuple(m.group(1).split("|")),
        what=lines[1][2:].strip(),
    )


CANDIDATE_LIST = [read_candidate(p) for p in sorted(CANDIDATES.glob("*/*.py"))]
BY_ID = {c.id: c for c in CANDIDATE_LIST}

# Pipeline bugs the suite found. Each test fails today; strict xfail turns a fix into an XPASS
# failure, so whoever fixes the pipeline removes the entry here (and the suite then guards it).
# Candidates that a known pipeline bug lets through (strict xfail: a fix turns them into failures
# to remove from here). Empty: every bug the suite found so far is fixed.
KNOWN_BUGS: dict[str, str] = {}
assert set(KNOWN_BUGS) <= set(BY_ID), set(KNOWN_BUGS) - set(BY_ID)

# Every cheat named in the evaluation protocol's list of known cheats (docs/integrity.md) and
# every broken kind, with the candidates that prove it, grouped by the test file that runs them.
COVERAGE_BY_CLASS: dict[str, dict[str, list[str]]] = {
    # What comes back: the output buffer, its type and shape, caches and memos, the tolerance.
    "outputs": {
        "reusing the reference's freed output buffer": ["gelu_scale/empty_no_kernel", "gelu_scale/kernel_writes_nothing"],
        "writing only part of the output": ["gelu_scale/half_grid"],
        "caching results by shape, pointer or content": [
            "gelu_scale/cache_by_shape", "gelu_scale/cache_skip_launch", "softmax_rows/cache_module_dict",
            "layer_norm/global_kernel_cache",
        ],
        "writing the result into an input and returning it": ["gelu_scale/write_into_input", "add_mul/write_into_second_input"],
        "returning a tensor subclass": ["gelu_scale/tensor_subclass"],
        "returning a wider dtype": ["gelu_scale/float64_output"],
        "wrong shape / wrong container": ["gelu_scale/wrong_shape", "gelu_scale/returns_list",
                                          # Red team pass 15: containers that crashed the parent's reader; an int.
                                          "gelu_scale/output_nested_300_deep", "gelu_scale/output_list_of_10000_items",
                                          "gelu_scale/returns_an_int"],
        "a tolerance so loose that zeros or identity pass": [
            "add_mul/zeros_trivial_kernel", "gelu_scale/identity_copy", "softmax_rows/uniform_rows",
        ],
        "honest twins: single kernel, views, scratch": [
            "gelu_scale/honest_flat_views", "gelu_scale/honest_scratch_view", "add_mul/honest_2d_grid", "gelu_scale/honest_grid_callable",
            "softmax_rows/honest_online_loop", "layer_norm/honest_autotuned",
        ],
        # Issue 16, class 6: perturbation trials.
        "memoisation across fresh inputs (a cache keyed on sampled values)": [
            "gelu_scale/memo_corner_values", "softmax_rows/memo_in_kernel", "layer_norm/memo_row_checksum",
        ],
        "honest twin: scratch kept between calls": ["softmax_rows/honest_scratch_reuse"],
        "returning one persistent buffer from every call (a kept output is overwritten)": ["softmax_rows/output_aliases_persistent_buffer"],
        # Red team 2026-12-06 (pass 4): random inputs never tie; the perturb-ties trial rounds them.
        "selections wrong on tied values": [
            "argmax_rows/last_index_on_ties", "argmax_rows/later_block_wins_ties", "argmax_rows/one_block_largest_index",
            "argmax_rows/honest_tuple_reduce_first_index", "argmax_rows/argmax_tie_break_fast",
            "argmax_rows/max_return_indices_tie_break_fast", "argmax_rows/honest_argmax_tie_break_left",
            "argmax_rows/custom_combine_keep_acc", "argmax_rows/custom_combine_2d_blocks",
        ],
        "honest twins in other shapes (scan carry, atomics, streaming logsumexp)": [
            "cumsum_rows/honest_associative_scan_carry", "col_sum/honest_atomic_row_split", "cross_entropy/honest_online_lse_two_stage",
        ],
    },
    # Where the work happens: in the solution's own kernels, not in torch, threads, streams or hooks.
    "compute": {
        "work in a background thread": ["gelu_scale/background_thread", "gelu_scale/thread_via_torch_module",
                                        "gelu_scale/thread_hook_via_torch_module", "gelu_scale/thread_trace_hook_in_init"],
        # Under the interpreter a pointer reaches the whole process: data handed to Python by address.
        "kernels reaching memory outside their tensor arguments (host compute by raw address)": [
            "gelu_scale/host_math_via_int_address", "gelu_scale/host_math_via_pointer_offset",
            "softmax_rows/host_math_via_array_addresses", "layer_norm/host_stats_via_int_address", "gelu_scale/wild_address",
            "gelu_scale/host_math_via_descriptor_on_moved_base", "gelu_scale/honest_tensor_descriptors",
        ],
        "host compute on the forward's data copied into memory made before the call": [
            "softmax_rows/host_math_via_copy_into_init_buffer", "softmax_rows/host_math_via_frombuffer",
        ],
        "honest twin: the input staged in a workspace made in __init__": ["gelu_scale/honest_copy_into_init_workspace"],
        # Red team 2026-12-06 (pass 4): the answer computed once, outside the forward.
        "work on the parameters moved into __init__ or a load_state_dict hook": [
            "embedding_layernorm/table_precomputed_in_init", "embedding_layernorm/table_precomputed_in_place_on_clones",
            "embedding_layernorm/table_built_in_load_state_dict_hook", "embedding_layernorm/table_precomputed_from_data_aliases",
            "embedding_layernorm/honest_fused_kernel_constant_setup_in_init",
            # Red team pass 8: in an overridden train() (reached by eval()), by a kernel at construction, on buffers.
            "embedding_layernorm/table_built_in_eval_override", "embedding_layernorm/table_by_triton_kernel_in_init",
            "conv2d_bn_relu_bf16/bn_running_stats_folded_in_init",
            # The launch refusal swallowed by the candidate; the kernel launched from eval()'s train().
            "embedding_layernorm/table_by_triton_kernel_launch_refusal_caught", "embedding_layernorm/table_by_triton_kernel_in_eval_override",
            # Red team pass 9: Model's weights drawn again (the RNG's state copied; seed 42 at import) for a table.
            "embedding_layernorm/table_from_rng_state_replay_in_init", "embedding_layernorm/table_at_import_by_kernel_from_seed_42",
            "embedding_layernorm/table_at_import_by_torch_from_seed_42", "embedding_layernorm/honest_warmup_launch_at_import",
        ],
        "native code built or loaded on the candidate's behalf under the interpreter": [
            "gelu_scale/native_build_via_cpp_extension_load", "gelu_scale/native_library_via_torch_ops",
        ],
        # Red team pass 10: the solution's code run by the checker's own steps outside the calls (a
        # finaliser of an output it drops, torch.save's registries, a lazy import, a subclass's hooks).
        "code run by the checker's own steps between the calls": [
            "softmax_rows/finaliser_on_previous_output", "softmax_rows/finaliser_on_previous_outputs_base",
            "softmax_rows/finaliser_in_autograd_ctx_of_previous_output", "softmax_rows/copyreg_reducer_runs_in_output_save",
            "softmax_rows/location_tagger_runs_in_output_save", "embedding_layernorm/meta_path_finder_in_checker_import",
            "embedding_layernorm/planted_checker_module", "embedding_layernorm/parameter_subclass_torch_function",
            "linear_relu/honest_autograd_function_wrapper",
        ],
        "work on a side stream": ["softmax_rows/side_stream"],
        "try/except that falls back to torch": ["gelu_scale/try_except_fallback"],
        "a kernel that only copies while torch computes": [
            "gelu_scale/torch_computes_kernel_copies", "linear_relu/torch_matmul_kernel_relu",
            "add_mul/numpy_computes_kernel_copies", "add_mul/numpy_dlpack_compute", "add_mul/disable_dispatch_modes",
            "gelu_scale/grid_callable_computes", "gelu_scale/pre_run_hook_computes", "gelu_scale/kernel_body_calls_torch",
        ],
        "no kernel at all": ["gelu_scale/pure_torch"],
        "class ModelNew(Model)": ["softmax_rows/subclass_of_reference"],
        "honest twins: multi-kernel with torch.empty scratch": [
            "gelu_scale/honest_two_kernels", "softmax_rows/honest_two_pass_scratch", "linear_relu/honest_two_kernels",
            "layer_norm/honest_stats_then_normalize",
        ],
        # Issue 16's classes (docs/integrity.md, "Classes of cheats").
        "1. work hidden in launch machinery": [
            "gelu_scale/grid_callable_computes", "gelu_scale/pre_run_hook_computes", "add_mul/subclass_torch_function_computes",
            "softmax_rows/config_pre_hook_computes", "layer_norm/heuristics_computes", "gelu_scale/honest_launch_hooks",
        ],
        "2. host compute in Python": [
            "gelu_scale/apply_on_host", "softmax_rows/host_row_stats_float", "layer_norm/host_statistics_from_kernel",
            "softmax_rows/storage_write_file_host_read",
            "gelu_scale/honest_scalar_from_parameter",
            # Red team 2026-12-06: the printer, the serializer and device_print as channels to the host.
            "gelu_scale/host_math_via_scalar_repr", "gelu_scale/host_math_via_device_print", "softmax_rows/host_math_via_torch_save",
        ],
        # Under the interpreter a kernel body is Python: CPU checks also compile every launched
        # specialization for sm_90 from the file's source (tools/check/gpu_compile.py).
        "13. kernel bodies only the interpreter runs (Python on its buffers)": [
            "gelu_scale/interpreter_python_on_loaded_values", "gelu_scale/interpreter_python_helper_on_handle",
            "gelu_scale/interpreter_only_branch_second_launch", "gelu_scale/interpreter_kernel_built_in_a_closure",
            "gelu_scale/interpreter_kernel_shadowing_a_top_level_name", "gelu_scale/honest_constexpr_globals_and_specializations",
            # Red team 2026-12-06: what the interpreter ran differed from what the compile rebuilt.
            "gelu_scale/interpreter_nested_def_same_name", "gelu_scale/interpreter_constexpr_global_rebound_by_annotation",
            "gelu_scale/interpreter_jit_helper_rebound_to_python", "gelu_scale/interpreter_source_swapped_in_linecache",
            "gelu_scale/honest_constexpr_from_math_call", "add_mul/honest_tuple_constexpr_2d",
            "softmax_rows/honest_autotune_heuristics_helper", "layer_norm/honest_two_kernels_jit_call_and_run",
            # Pass 3: the launch recorder's values, Triton's text search for "def ", module state in a body.
            "gelu_scale/interpreter_constexpr_int_subclass_bool", "gelu_scale/interpreter_constexpr_empty_tuple_repr",
            "gelu_scale/interpreter_def_inside_string_literal", "gelu_scale/interpreter_knobs_interpret_branch",
            "gelu_scale/honest_activation_as_constexpr_function", "softmax_rows/honest_reduce_combine_fn",
            "add_mul/honest_tuple_of_pointers_arg",
        ],
        "11. views and layout ops are not compute (arithmetic still is)": [
            "linear_relu/honest_weight_transpose_view", "softmax_rows/honest_layout_round_trip", "gelu_scale/honest_constant_pad",
            "linear_relu/transpose_then_torch_matmul", "gelu_scale/pad_with_computed_value", "add_mul/type_as_other_dtype_compute",
            "gelu_scale/honest_bitcast_int32_view",
        ],
    },
    # The process around the kernels: global flags and RNG, the checker's code and records, secrets.
    "tampering": {
        "flipping TF32/precision flags": [
            "softmax_rows/tf32_flag", "softmax_rows/matmul_precision", "softmax_rows/matmul_precision_aliased",
            "softmax_rows/tf32_flag_at_import", "softmax_rows/matmul_precision_in_init",
        ],
        "digging tensors out of gc or caller frames": [
            "softmax_rows/gc_dig", "softmax_rows/caller_frame", "softmax_rows/inspect_frames",
            "gelu_scale/getattr_frame_walk_clears_op_count",
        ],
        "RNG tampering": ["softmax_rows/manual_seed", "softmax_rows/rng_generator_tamper"],
        "monkeypatching": [
            "linear_relu/monkeypatch_allclose", "linear_relu/monkeypatch_perf_counter",
            "add_mul/patch_torch_equal_hide_mutation", "add_mul/patch_checker_guards",
            "gelu_scale/torch_sys_modules_neuter_accountant", "gelu_scale/exec_via_code_module",
        ],
        # Red team 2026-12-07 (pass 5): a mode left active sees the worker's clones, equal and saves.
        "torch modes left active outside the accounted forward": [
            "softmax_rows/mode_lazy_function_mode_after_forward", "softmax_rows/mode_precompute_in_clone_mode",
            "softmax_rows/mode_inplace_into_input_blind_equal", "softmax_rows/honest_function_mode_exited_in_forward",
        ],
        "forging the checker's own records": [
            "add_mul/forge_event_log", "gelu_scale/finalizer_rewrites_saved_output", "gelu_scale/hmac_spy_forges_event_log",
            # Red team pass 12: the candidate's code run inside the checker's torch.save of its output
            # (a hook that undoes itself, state torch.save reads, the writer's builtins), and the log
            # written from C++.
            "gelu_scale/save_replaced_restores_itself", "gelu_scale/byteorder_str_subclass_runs_in_save",
            "gelu_scale/location_tag_restores_itself_in_save", "gelu_scale/copyreg_reducer_removes_itself_in_save",
            "gelu_scale/storage_alignment_int_subclass_runs_in_save", "gelu_scale/memoryview_hashes_other_bytes_then_pwrite",
            "gelu_scale/from_file_writes_event_log",
            # Red team pass 13: hooks the forward left on torch.Tensor / UntypedStorage that undo
            # themselves in the worker's first steps after the call; a Python kernel for aten::clone.
            "gelu_scale/numel_hook_removes_itself_after_call", "gelu_scale/device_property_removes_itself_after_call",
            "gelu_scale/storage_data_ptr_removes_itself_after_call", "gelu_scale/shape_property_describes_float_shape",
            "gelu_scale/shape_property_hides_input_mutation", "gelu_scale/python_dispatcher_clone_kernel",
            # Red team pass 14: the exits after the call (the accountant's mode, the grad modes), the
            # backends' flags the snapshot reads, the event log's JSON, a dotted-path walker, the
            # dispatch keys' thread-local sets.
            "gelu_scale/dispatch_mode_exit_restores_itself", "gelu_scale/grad_mode_exits_replaced_at_import",
            "gelu_scale/cublas_module_getattr_restores_itself", "gelu_scale/fetch_attr_clears_accountant_counts",
            "gelu_scale/json_encoder_scrubs_signed_events", "gelu_scale/tls_exclude_python_key",
        ],
        "secrets never reach the sandbox": ["gelu_scale/reads_api_key"],
        "3. reaching forbidden things through allowed ones": [
            "gelu_scale/torch_sys_gc_clears_accounting", "add_mul/getattr_private_dispatch", "softmax_rows/exec_alias_runs_string",
            "gelu_scale/numpy_through_functional", "add_mul/honest_aliases_and_getattr",
            # Red team pass 8: getattr under a parameter called self, getattr as a value, a path in a
            # string (string.Formatter), each popping the accountant; pickle.Pickler replaced.
            "softmax_rows/self_named_getattr_pops_accountant", "softmax_rows/reduce_getattr_value_pops_accountant",
            "softmax_rows/string_formatter_pops_accountant", "softmax_rows/pickle_pickler_replaced",
        ],
        # Red team pass 8: the worker's steps after the call ran the candidate's code unaccounted.
        "4. the worker's own steps after the call (walking the output, tensor methods, the collector)": [
            "lstm_cell/tuple_subclass_iter_computes", "softmax_rows/output_instance_detach_shadow",
            "softmax_rows/input_attr_shadows_contiguous", "softmax_rows/gc_finalizer_after_forward",
            "lstm_cell/honest_tuple_fused", "softmax_rows/honest_padded_buffer_view_output",
        ],
        "4. tampering with the checker from inside the child": [
            "gelu_scale/rename_ops_via_alias", "add_mul/widen_allowed_ops_via_sys_modules",
            "softmax_rows/patch_guards_through_wrapper_globals", "layer_norm/honest_kernel_table",
        ],
        # Red team pass 6: the worker makes each trial's inputs in the solution's process (recipes).
        "4. reaching the worker's own steps (input making, cloning, saving) through torch's names or kernels": [
            "softmax_rows/hook_problem_get_inputs_by_name", "softmax_rows/spy_subclass_from_problem_get_inputs",
            "softmax_rows/alias_originals_hides_input_mutation", "softmax_rows/patch_torch_randn_through_a_function",
            "softmax_rows/honest_library_through_a_function",
            # Red team pass 7: a kernel for torch's own operator, the serializer the worker saves with.
            "softmax_rows/aten_clone_kernel_via_torch_library", "softmax_rows/aten_clone_kernel_via_library_from_a_call",
            "softmax_rows/serialization_location_tag_rewrites_output",
        ],
        "5. behaving only when watched": [
            "gelu_scale/honest_only_under_interpreter_env", "add_mul/honest_only_in_checker_sandbox",
            "softmax_rows/honest_only_under_checker_wrappers", "gelu_scale/honest_only_when_poisoned",
            "add_mul/honest_only_when_fresh_memory_is_nan", "linear_relu/honest_only_in_inference_mode", "softmax_rows/honest_env_and_modes",
            "add_mul/honest_only_without_home_env", "add_mul/honest_only_when_triton_knobs_interpret",
            "softmax_rows/wrong_when_grad_enabled",
        ],
        "5. telling trials apart by the seed the worker drew them with (torch.initial_seed())": [
            "l2_normalize_rows/seed_leak_clamp_only_when_seed_repeats", "l2_normalize_rows/honest_seed_leak_twin_always_clamp",
        ],
    },
    # Fitting what was shipped: shapes, sizes, values and weights that a variant or trial changes.
    "overfit": {
        "a kernel hard-coded to the shipped shapes": [
            "linear_relu/asserts_shipped_size_in_init",
            "softmax_rows/hardcoded_row_length", "layer_norm/hardcoded_dim", "linear_relu/asserts_shipped_shape",
            # Red team pass 8: right only for tails longer than half a block (the variant's tail is now drawn small).
            "softmax_rows/tail_dropped_below_half_block",
        ],
        "honest twins: weights in parameters with the reference's names": [
            "linear_relu/honest_param_holder", "layer_norm/honest_stats_then_normalize",
        ],
        "honest twin: weights under other names, built like the reference (seeded fallback)": ["linear_relu/honest_renamed_linear"],
        # Class 9: value variants, expressions and chained sizes, the parameter trial.
        "overfitting what the variants used to leave fixed": [
            "kb_square_matmul/hardwired_expression_size", "kb_channel_scale/hardwired_channels", "kb_channel_scale/hardwired_factor",
            "kb_channel_scale/hardwired_chained_plane", "kb_mean_dim/hardwired_axis",
        ],
        "weights snapshotted at construction or on the first call": [
            "linear_relu/snapshot_weights_in_init", "linear_relu/weights_cached_first_call", "layer_norm/affine_folded_at_init",
            # Red team pass 8: a LayerNorm's ones and zeros stayed uniform under a*p + b; read as one scalar.
            "embedding_layernorm/uniform_affine_scalar_load",
        ],
        "honest twins: every value read at run time": [
            "kb_square_matmul/honest_masked_tiles", "kb_channel_scale/honest_runtime_values", "kb_mean_dim/honest_any_axis",
        ],
        # Issue 19: a KernelBench file unchanged runs on the CPU at sizes reduced automatically.
        "KernelBench file at full size, reduced for the CPU": ["kb_square_matmul_full/honest_masked_tiles"],
    },
    # The numbers themselves: precision downgrades, numerically fragile kernels, races.
    "numerics": {
        # Class 7: precision rule (interpreter records what each dot and conversion computes in).
        "precision downgrades in an fp32 problem (TF32, fp16 operands, accumulators, reductions)": [
            "linear_relu/tf32_default_dot", "linear_relu/tf32_precision_constexpr", "softmax_rows/fp16_exp_sum",
            "linear_relu/fp16_operands", "linear_relu/fp16_accumulator",
            "softmax_rows/precision_records_flooded", "layer_norm/honest_welford_tl_reduce",
        ],
        "honest twin: tf32x3 dots (fp32-level error)": ["linear_relu/honest_tf32x3"],
        # Class 8: stress trials.
        "numerically fragile kernels (no max shift, naive variance, eps in the wrong place)": [
            "softmax_rows/no_max_subtraction", "layer_norm/naive_variance", "layer_norm/shift_by_row_absmax", "layer_norm/honest_welford_chunks", "logsumexp_rows/no_max_logsumexp",
            "l2_normalize_rows/eps_inside_sqrt",
        ],
        "a norm or variance of zero without the reference's eps or clamp (0/0 on a row of zeros or of one value)": [
            "l2_normalize_rows/no_norm_clamp", "l2_normalize_rows/rsqrt_of_mean_square", "layer_norm/variance_without_eps",
        ],
        "honest twin: the clamp as the reference": ["l2_normalize_rows/honest_norm_clamp"],
        # Red team pass 8: inputs drawn around 1 never go negative; the ties trial negates one slice.
        "a log of inputs that are positive only by chance (a cumulative product as exp(cumsum(log x)))": [
            "cumprod_rows/exp_cumsum_log", "cumprod_rows/honest_scan_chunks_carry",
        ],
        "a zero query row (1 x D) or a zero residual sum: the zero slices reach every shape": [
            "query_cosine/cosine_query_norm_unclamped", "query_cosine/honest_cosine_query_both_clamped",
            "layer_norm_residual_bf16/residual_ln_variance_without_eps", "layer_norm_residual_bf16/honest_residual_ln_with_eps",
        ],
        "a combine that is not associative (a pairwise average): threads fold in order on a GPU": [
            "l2_normalize_rows/tree_pairwise_average_sumsq", "l2_normalize_rows/honest_tree_custom_add_combine",
        ],
        "honest twins: stable kernels": ["logsumexp_rows/honest_max_shift", "cumsum_rows/honest_one_row_per_program"],
        # Class 10: programs that run at once.
        "races the in-order interpreter hid": [
            "linear_relu/split_k_plain_accumulate", "cumsum_rows/carry_between_blocks", "gelu_scale/constants_from_program_zero",
        ],
        "honest twin: split-K with atomics": ["linear_relu/honest_split_k_atomic"],
    },
    # Solutions that are broken rather than cheating, and what the CPU interpreter cannot judge.
    "broken": {
        "broken: syntax error": ["gelu_scale/syntax_error"],
        "broken: kernel compile error": ["gelu_scale/compile_error_arange", "gelu_scale/compile_error_undefined_tl"],
        "broken: exception in forward": ["gelu_scale/forward_raises"],
        "broken: hang": ["gelu_scale/infinite_loop"],
        "broken: segfault": ["gelu_scale/stack_overflow_segfault"],
        "broken: weights not under the reference's names": ["linear_relu/misnamed_weights"],
        "broken: ignores parameters": ["layer_norm/ignores_affine"],
        # Class 12: what the CPU interpreter lacked or got wrong.
        "honest kernels the stock interpreter rejected (libdevice, bf16 dots)": [
            "gelu_scale/honest_libdevice_erf", "gelu_scale/honest_libdevice_stub_tanh", "linear_gelu_bf16/honest_bf16_dot",
            "layer_norm_residual_bf16/honest_bf16_plus_bf16_in_kernel",
        ],
        "wrong kernels judged on their own error, not the interpreter's": [
            "gelu_scale/libdevice_wrong_formula", "linear_gelu_bf16/bf16_dot_no_bias",
        ],
        "what only a GPU can check: needs_gpu, never compile_error": [
            "gelu_scale/inline_asm_identity", "gelu_scale/libdevice_no_cpu_equivalent",
        ],
    },
}
PROTOCOL_COVERAGE = {cheat: ids for cheats in COVERAGE_BY_CLASS.values() for cheat, ids in cheats.items()}
assert len(PROTOCOL_COVERAGE) == sum(map(len, COVERAGE_BY_CLASS.values())), "a cheat listed under two classes"


def owning_class(candidate_id: str) -> str | None:
    """The class whose test file runs a candidate: the first that lists it (some prove two cheats)."""
    return next((cls for cls, cheats in COVERAGE_BY_CLASS.items() for ids in cheats.values() if candidate_id in ids), None)


def candidates_of(cls: str) -> list[Candidate]:
    """The candidates a class's test file runs, in file order."""
    assert cls in COVERAGE_BY_CLASS, cls
    return [c for c in CANDIDATE_LIST if owning_class(c.id) == cls]


def candidate_param(c: Candidate):
    """A pytest parameter named by the candidate's id, xfail if a known bug lets it through, slow if it hangs."""
    marks = [pytest.mark.xfail(reason=KNOWN_BUGS[c.id], strict=True)] if c.id in KNOWN_BUGS else []
    if "timeout" in c.expect:
        marks.append(pytest.mark.slow)
    return pytest.param(c, id=c.id, marks=marks)
