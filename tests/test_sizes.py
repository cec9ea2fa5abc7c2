"""The size model (tools/sizes/): which literals of a KernelBench-format file a check varies and
shrinks, read without running the file. The sources below copy the forms KernelBench's own files
use (expressions, chained and tuple assignments, literal sizes in get_inputs, literals returned by
get_init_inputs); tests/test_integrity_overfit.py runs checks on such files."""

from __future__ import annotations

import ast
import textwrap

from kernelwright.tools import sizes
from kernelwright.tools.check.plan import plan_variants
from kernelwright.tools.check.verify import CheckOptions, plan_cases
from kernelwright.tools.problem import load_problem, sized_for_device

from paths import PROBLEMS, TEST_PROBLEMS

KB_LIKE = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    class Model(nn.Module):
        def __init__(self, in_channels, out_channels, kernel_size, groups, slope, dim):
            super().__init__()
            self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, groups=groups)
            self.slope, self.dim = slope, dim

        def forward(self, x, s):
            return torch.nn.functional.leaky_relu(self.conv(x), self.slope).sum(self.dim) * s


    batch_size = 16
    N = 2048 * 2  # an expression
    height = width = 128
    D, H, W = 16, 32, 32
    input_shape = (8192 * 2,)
    in_channels = 64
    out_channels = 128
    kernel_size = 3
    groups = in_channels
    slope = -0.1
    unused = 4096
    CPU_SIZES_NOT = 0


    def get_inputs():
        s = 3.14
        return [torch.rand(batch_size, in_channels, height, width), s, torch.randint(0, 2, (N, *input_shape)),
                torch.randn(batch_size, 3, 224, 224), torch.zeros(D, H, W)]


    def get_init_inputs():
        return [in_channels, out_channels, kernel_size, groups, slope, 1]
''')


def knobs():
    return sizes.read_knobs(KB_LIKE).by_name()


def test_every_form_of_constant_is_a_knob_with_its_value():
    k = knobs()
    assert k["batch_size"].value == 16 and k["N"].value == 4096
    assert k["height = width"].value == 128 and k["height = width"].binds == ("height", "width")
    assert (k["D"].value, k["H"].value, k["W"].value) == (16, 32, 32)
    assert k["input_shape[0]"].value == 16384
    assert k["slope"].value == -0.1 and k["kernel_size"].value == 3
    assert k["get_inputs: s"].value == 3.14
    assert k["get_init_inputs()[5]"].value == 1 and k["get_init_inputs()[5]"].init
    literal_sizes = sorted(v.value for name, v in k.items() if name.startswith("get_inputs: torch.randn"))
    assert literal_sizes == [3, 224, 224]
    # A derived constant follows its source; an unused one and the randint range are not knobs.
    assert "groups" not in k and "unused" not in k
    assert not any(v.value == 2 and name.startswith("get_inputs: torch.randint") for name, v in k.items())
    # Which knobs shape an input, which reach the constructor.
    assert k["batch_size"].shape and k["height = width"].shape and k["N"].shape and k["input_shape[0]"].shape
    assert k["out_channels"].init and not k["out_channels"].shape and k["D"].shape


def test_apply_rewrites_only_the_knobs_and_keeps_lines():
    model = sizes.read_knobs(KB_LIKE)
    line = next(n for n in model.knobs if n.name.startswith("get_inputs: torch.randn") and n.value == 224).name
    out = sizes.apply(model, {"N": 256, "height = width": 16, "input_shape[0]": 64, "slope": -0.075, line: 28,
                              "get_init_inputs()[5]": 2, "get_inputs: s": 2.355})
    assert out.count("\n") == KB_LIKE.count("\n")
    tree = ast.parse(out)
    assert "N = 256  # an expression" in out and "height = width = 16" in out and "input_shape = (64,)" in out
    assert "slope = -0.075" in out and "s = 2.355" in out and "groups = in_channels" in out
    assert "torch.randn(batch_size, 3, 28, 224)" in out or "torch.randn(batch_size, 3, 224, 28)" in out
    assert "return [in_channels, out_channels, kernel_size, groups, slope, 2]" in out
    assert sizes.read_knobs(out).by_name()["N"].value == 256 and tree


def test_a_shape_variant_makes_every_size_odd_and_smaller():
    model = sizes.read_knobs(KB_LIKE)
    changed = sizes.shape_variant(model, model.values())
    # From 128 up: just past a multiple of 64 (a tail of 1, 3, 5 or 7: the last block nearly empty).
    assert changed["N"] // 64 == 2560 // 64 and changed["N"] % 64 in (1, 3, 5, 7)
    assert changed["height = width"] == 79 and changed["batch_size"] == 9
    for name, value in changed.items():
        old = model.by_name()[name].value
        assert value % 2 == 1 and value < old and old % value != 0, name
    assert "kernel_size" not in changed  # 3 is a small integer: the value variant's


def test_a_shape_variants_tail_is_drawn_from_the_checks_secret_seed():
    """Which sizes a variant takes is not knowable from the shipped ones: over seeds, the tail of a
    large size takes every small odd value (a kernel right only for tails of one length fails)."""
    model = sizes.read_knobs(KB_LIKE)
    tails = {sizes.shape_variant(model, model.values(), seed)["N"] % 64 for seed in range(40)}
    assert tails == {1, 3, 5, 7}
    assert sizes.shape_variant(model, model.values(), 5) == sizes.shape_variant(model, model.values(), 5)  # the same in every process


def test_a_value_variant_turns_small_integers_and_floats():
    model = sizes.read_knobs(KB_LIKE)
    changed = sizes.value_variant(model, model.values())
    assert changed["kernel_size"] == 4 and changed["get_init_inputs()[5]"] == 2
    assert changed["slope"] == -0.1 * 0.75 and changed["get_inputs: s"] == 3.14 * 0.75
    three = next(n for n in changed if n.startswith("get_inputs: torch.randn"))
    assert changed[three] == 4  # a batch of 2 becomes 3, 3 channels become 4
    assert "N" not in changed
    zero = sizes.read_knobs("x = 0\ny = 0.0\nz = -1\nclass Model: pass\ndef get_inputs():\n    return [x, y, z]\n")
    assert sizes.value_variant(zero, zero.values()) == {"x": 1, "z": -2}  # 0.0 is left alone


def test_the_cpu_reduction_shrinks_inputs_to_the_budget_and_keeps_powers_of_two():
    source = textwrap.dedent('''\
        import torch
        class Model(torch.nn.Module):
            def __init__(self, n_embd, n_head):
                super().__init__()
        batch_size = 16
        max_seqlen = 1024
        n_embd = 768
        n_head = 12
        def get_inputs():
            return [torch.rand(batch_size, max_seqlen, n_embd)]
        def get_init_inputs():
            return [n_embd, n_head]
    ''')
    model = sizes.read_knobs(source)
    reduced = sizes.cpu_reduction(model)
    numel = model.input_numels(reduced)[0][0]
    assert numel <= sizes.ELEMENT_BUDGET, reduced
    assert reduced["n_embd"] % 12 == 0, "768 = 2^8 * 3 halved stays divisible by the 12 heads"
    assert "n_head" not in reduced  # small: never reduced
    milder = sizes.cpu_reductions(model)
    assert milder[0] == reduced and all(model.input_numels(m)[0][0] > numel for m in milder[1:])
    # Sizes that only reach the constructor are capped.
    linear = sizes.read_knobs("import torch\nclass Model: pass\nb = 32\nin_f = 64\nout_f = 8192\n"
                              "def get_inputs():\n    return [torch.rand(b, in_f)]\ndef get_init_inputs():\n    return [in_f, out_f]\n")
    assert sizes.cpu_reduction(linear) == {"out_f": 128}
    small = sizes.read_knobs("import torch\nclass Model: pass\nn = 64\ndef get_inputs():\n    return [torch.rand(n, n)]\n")
    assert sizes.cpu_reduction(small) == {} and sizes.cpu_reductions(small) == []


def test_the_problem_loader_reduces_a_kernelbench_file_without_cpu_sizes(tmp_path):
    path = tmp_path / "kb_matmul.py"
    path.write_text(KB_LIKE)
    problem = load_problem(path)
    assert problem.constants["height"] == problem.constants["width"] == 128 and problem.constants["N"] == 4096
    small = sized_for_device(problem, "cpu")
    assert small.resized_by == "automatic" and small.resized and all(v < knobs()[k].value for k, v in small.resized.items())
    assert sized_for_device(problem, "cpu", full=True) is problem and sized_for_device(problem, "cuda:0") is problem
    # The file's own CPU_SIZES win over the automatic reduction.
    gelu = sized_for_device(load_problem(PROBLEMS / "gelu_scale.py"), "cpu")
    assert gelu.resized == {"batch_size": 64, "dim": 1000} and gelu.resized_by == "CPU_SIZES"


def test_sizes_full_plans_the_file_as_written_and_auto_plans_the_reductions(tmp_path):
    path = tmp_path / "kb_matmul.py"
    path.write_text(KB_LIKE)
    problem = load_problem(path)
    auto = plan_cases(problem, CheckOptions(device="cpu"), "cpu")
    full = plan_cases(problem, CheckOptions(device="cpu", sizes="full"), "cpu")
    gpu = plan_cases(problem, CheckOptions(device="cuda"), "cuda:0")
    assert len(auto[0].alternatives) >= 2 and auto[0].alternatives[0]
    assert full[0].alternatives == [{}] and gpu[0].alternatives == [{}]
    square = plan_cases(load_problem(TEST_PROBLEMS / "kb_square_matmul.py"), CheckOptions(device="cpu"), "cpu")
    assert square[0].alternatives == [{}], "N = 64 * 2 is small enough as written"


def test_the_plan_orders_trials_and_keeps_compat_to_kernelbench():
    strict = plan_variants([{}], seed=42, trials=3, variant_trials=2, strict=True, variants=True)
    shipped = strict[0]
    assert [c.kind for c in shipped.cases] == ["plain"] * 3 + ["perturb"] * 3 + ["stress"] * 3 + ["params"]
    assert shipped.cases[0].seed == 42 and all(c.base == "shipped-2" for c in shipped.cases if c.kind == "perturb")
    assert shipped.transform and 1.15 <= shipped.transform[0] <= 1.35
    assert [v.kind for v in strict] == ["shipped", "sizes", "values"] and len(strict[1].cases) == 2
    compat = plan_variants([{}], seed=42, trials=5, variant_trials=2, strict=False, variants=True)
    assert len(compat) == 1 and [c.kind for c in compat[0].cases] == ["plain"] * 5
