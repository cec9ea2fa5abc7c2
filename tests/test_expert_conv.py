"""The expert policy's convolution family: Conv1d/2d/3d and ConvTranspose1d/2d/3d (stride, zero
padding including 'same', dilation, groups and depthwise, output_padding, with or without bias),
the functional and torch.export forms, and conv stages followed by the other families. Each
problem is compiled at its sizes and must be accepted by the real strict check (Triton
interpreter): the value variant changes the small knobs (kernel sizes, strides, paddings,
dilations, channels), so the kernel must read the module's hyperparameters at run time."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kernelwright.agents.expert.configs import configs_for, parse_knobs, spaces_for
from kernelwright.agents.expert.ir import UnsupportedProblem
from kernelwright.agents.expert.solution import compile_problem
from kernelwright.agents.expert.tracing import trace_problem
from kernelwright.tools.check.static_scan import scan_solution
from kernelwright.tools.check.verify import CheckOptions, verify_solution
from kernelwright.tools.problem import load_problem, sized_for_device

from paths import PROBLEMS, ROOT

DATA = ROOT / "tests" / "data" / "expert"

# A problem file: `{module}` is built in __init__ from get_init_inputs(); forward returns `{forward}`.
TEMPLATE = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    def __init__(self, {params}):
        super().__init__()
{init}

    def forward(self, x):
{forward}


{constants}


def get_inputs():
    return [torch.randn({shape})]


def get_init_inputs():
    return [{params}]
'''


def problem_source(params: str, init: str, forward: str, constants: str, shape: str) -> str:
    return TEMPLATE.format(params=params, init=textwrap.indent(init, " " * 8), forward=textwrap.indent(forward, " " * 8),
                           constants=constants, shape=shape).lstrip()


# name -> (init parameters, __init__ body, forward body, module constants, input shape)
FORMS = {
    "conv1d": ("cin, cout, kernel, stride, padding", "self.conv = nn.Conv1d(cin, cout, kernel, stride=stride, padding=padding)",
               "return self.conv(x)", "batch, cin, cout, kernel, stride, padding, length = 2, 4, 6, 3, 2, 1, 13",
               "batch, cin, length"),
    # stride, padding, dilation and kernel size all from get_init_inputs: the value variant turns each
    "conv2d_strided_dilated": ("cin, cout, kernel, stride, padding, dilation",
                               "self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, dilation=dilation, bias=False)",
                               "return self.conv(x)",
                               "batch, cin, cout, kernel, stride, padding, dilation, height, width = 2, 4, 8, 3, 2, 1, 2, 11, 10",
                               "batch, cin, height, width"),
    "conv2d_grouped": ("cin_g, cout_g", "self.conv = nn.Conv2d(3 * cin_g, 3 * cout_g, (3, 2), padding=1, groups=3)",
                       "return self.conv(x)", "batch, cin_g, cout_g, height, width = 2, 2, 3, 7, 8", "batch, 3 * cin_g, height, width"),
    "conv2d_depthwise": ("channels, kernel", "self.conv = nn.Conv2d(channels, channels, kernel, padding=kernel // 2, groups=channels)",
                         "return self.conv(x)", "batch, channels, kernel, height, width = 2, 4, 3, 9, 10", "batch, channels, height, width"),
    # 16 input channels: the tl.dot path (its shape variant, 9 channels, the outer products)
    "conv2d_dot_same": ("cin, cout", "self.conv = nn.Conv2d(cin, cout, 4, padding='same', dilation=2)", "return self.conv(x)",
                        "batch, cin, cout, height, width = 2, 16, 20, 9, 8", "batch, cin, height, width"),
    "conv3d": ("cin, cout", "self.conv = nn.Conv3d(cin, cout, (2, 3, 3), stride=(1, 2, 1), padding=1)", "return self.conv(x)",
               "batch, cin, cout, depth, height, width = 2, 3, 5, 5, 6, 7", "batch, cin, depth, height, width"),
    "conv_transpose1d": ("cin, cout", "self.conv = nn.ConvTranspose1d(cin, cout, 3, stride=2, padding=1, output_padding=1, dilation=2)",
                         "return self.conv(x)", "batch, cin, cout, length = 2, 4, 6, 7", "batch, cin, length"),
    "conv_transpose2d": ("cin, cout, kernel, stride, padding, output_padding",
                         "self.conv = nn.ConvTranspose2d(cin, cout, kernel, stride=stride, padding=padding, output_padding=output_padding)",
                         "return self.conv(x)",
                         "batch, cin, cout, kernel, stride, padding, output_padding, height, width = 2, 4, 6, 3, 2, 1, 1, 5, 6",
                         "batch, cin, height, width"),
    "conv_transpose3d_grouped": ("cin_g, cout_g",
                                 "self.conv = nn.ConvTranspose3d(2 * cin_g, 2 * cout_g, 3, stride=2, padding=1, output_padding=1, "
                                 "groups=2, bias=False)",
                                 "return self.conv(x)", "batch, cin_g, cout_g, depth, height, width = 2, 2, 2, 3, 4, 3",
                                 "batch, 2 * cin_g, depth, height, width"),
    "functional_epilogue": ("cin_g, cout_g",
                            "self.w = nn.Parameter(torch.randn(2 * cout_g, cin_g, 3, 3))\nself.b = nn.Parameter(torch.randn(2 * cout_g))\n"
                            "self.scale = nn.Parameter(torch.randn(2 * cout_g, 1, 1))",
                            "y = F.conv2d(x, self.w, self.b, stride=(2, 1), padding=1, groups=2)\nreturn torch.sigmoid(y) * self.scale + 0.5",
                            "batch, cin_g, cout_g, height, width = 2, 2, 3, 7, 6", "batch, 2 * cin_g, height, width"),
    # A branch on a size: torch.fx cannot trace it, torch.export can (its aten op, the module's values read at run time)
    "exported": ("cin, cout", "self.conv = nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=1, output_padding=1)",
                 "if x.shape[-1] > 3:\n    x = self.conv(x)\nreturn F.gelu(x)", "batch, cin, cout, height, width = 2, 4, 6, 5, 6",
                 "batch, cin, height, width"),
    # Level-2 style: the conv, then a GroupNorm (a row kernel) and a max pooling, one kernel each
    "conv_groupnorm_maxpool": ("cin, cout", "self.conv = nn.Conv2d(cin, cout, 3)\nself.bias = nn.Parameter(torch.randn(cout, 1, 1))\n"
                               "self.gn = nn.GroupNorm(4, cout)\nself.pool = nn.MaxPool2d(2)",
                               "x = torch.relu(self.conv(x)) + self.bias\nreturn self.pool(self.gn(x))",
                               "batch, cin, cout, height, width = 2, 3, 8, 9, 10", "batch, cin, height, width"),
}

# (form, family of the main stage, the families of the stages (empty: one kernel), a text the solution must hold)
CASES = [
    ("conv1d", "conv", [], "self.conv.stride, self.conv.padding"),
    ("conv2d_strided_dilated", "conv", [], "self.conv.dilation"),
    ("conv2d_grouped", "conv", [], "self.conv.groups"),
    ("conv2d_depthwise", "conv", [], ""),
    ("conv2d_dot_same", "conv", [], ""),
    ("conv3d", "conv", [], ""),
    ("conv_transpose1d", "conv", [], "self.conv.output_padding"),
    ("conv_transpose2d", "conv", [], "self.conv.output_padding"),
    ("conv_transpose3d_grouped", "conv", [], ""),
    ("functional_epilogue", "conv", [], "(2, 1), 1, 1, 2, 0"),  # F.conv2d's literals: stride, padding, dilation, groups
    ("exported", "conv", [], "self.conv.stride"),
    ("conv_groupnorm_maxpool", "conv", ["conv", "rows", "pool"], ""),
]


def write_problem(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(problem_source(*FORMS[name]))
    return path


def check(problem: Path, solution: Path):
    return verify_solution(problem, solution, CheckOptions(device="cpu", trials=2, static_resources=False))


def compile_and_check(tmp_path: Path, problem: Path):
    sized = sized_for_device(load_problem(problem), "cpu")
    source, traced = compile_problem(problem, None, source=sized.file.source, device="cpu")
    assert not scan_solution(source)
    path = tmp_path / "solution.py"
    path.write_text(source)
    return source, traced, check(problem, path)


@pytest.mark.parametrize("name,family,stages,holds", CASES, ids=[c[0] for c in CASES])
def test_convolution_is_compiled_and_accepted(tmp_path, name: str, family: str, stages: list[str], holds: str):
    source, traced, result = compile_and_check(tmp_path, write_problem(tmp_path, name))
    assert traced.family == family and [s.family for s in traced.stages] == stages
    assert holds in source
    assert result.accepted, (result.verdict, [r.message for r in result.reasons], source)


@pytest.mark.parametrize("name", ["conv2d_bn_relu_bf16", "conv1d_gelu_bf16"])
def test_bf16_suite_convolutions_are_accepted(tmp_path, name: str):
    # bf16: the conv's result rounded as cuDNN stores it before the epilogue (an inference
    # BatchNorm folded into per-channel operands, a GELU), at the suite's CPU sizes
    source, traced, result = compile_and_check(tmp_path, PROBLEMS / f"{name}.py")
    assert traced.family == "conv" and traced.dtype == "bf16" and "kw_round_out(" in source
    assert result.accepted, (result.verdict, [r.message for r in result.reasons], source)


def test_conv_relu_bias_is_one_kernel_with_its_epilogue(tmp_path):
    # relu(conv(x)) with the conv's own bias: bias and activation fused before the one store
    source, traced, result = compile_and_check(tmp_path, DATA / "conv_relu.py")
    assert traced.family == "conv" and not traced.stages and source.count("@triton.jit\ndef kw_conv_kernel") == 1
    assert "tl.maximum(" in source and "p_conv_bias_ptr + co[None, :]" in source
    assert result.accepted, (result.verdict, [r.message for r in result.reasons], source)


@pytest.mark.parametrize("right,wrong,verdict", [
    # the padding left out of the input's index: the wrong window everywhere
    ("i_h = oh * SH - PH + kh * DH", "i_h = oh * SH + kh * DH", "wrong_output"),
    # the traced stride baked in: right at the shipped values, wrong where the value variant turns it
    ("self.conv.stride", "(2, 2)", "shape_overfit"),
], ids=["padding_ignored", "stride_baked_in"])
def test_a_broken_convolution_is_rejected(tmp_path, right: str, wrong: str, verdict: str):
    """The checks above can fail: the same solution with one mistake is rejected, with the verdict
    that names it."""
    problem = write_problem(tmp_path, "conv2d_strided_dilated")
    source, _ = compile_problem(problem, device="cpu")
    assert right in source
    path = tmp_path / "broken.py"
    path.write_text(source.replace(right, wrong))
    result = check(problem, path)
    assert not result.accepted and result.verdict.value == verdict, (result.verdict, result.reasons)


@pytest.mark.parametrize("init,forward,reason", [
    ("self.conv = nn.Conv2d(cin, cout, 3, padding=1, padding_mode='reflect')", "return self.conv(x)",
     "nn.Conv2d with padding_mode='reflect' (only zero padding)"),
    ("self.conv = nn.ConvTranspose2d(cin, cout, 3, stride=2)", "return self.conv(x, output_size=[13, 15])",
     "nn.ConvTranspose2d with output_size (only the output_padding of the module)"),
], ids=["reflect_padding", "transposed_output_size"])
def test_unsupported_convolutions_name_their_reason(tmp_path, init: str, forward: str, reason: str):
    problem = tmp_path / "unsupported.py"
    problem.write_text(problem_source("cin, cout", init, forward, "batch, cin, cout, height, width = 2, 4, 6, 6, 7",
                                      "batch, cin, height, width"))
    with pytest.raises(UnsupportedProblem) as info:
        compile_problem(problem, device="cpu")
    assert str(info.value) == f"expert policy: no kernel for {reason}"


def test_conv_configs_round_trip_through_their_knobs(tmp_path):
    # Solution headers, debugger repairs and lessons carry configs as KEY=VALUE text: the GPU
    # spaces' tiles (3xTF32 for fp32) and the CPU's must read back as the same configs.
    traced = trace_problem(write_problem(tmp_path, "conv2d_dot_same"))
    assert traced.conv is not None and (traced.conv.n, traced.conv.k) == (20, 16 * 16)
    gpu = [c for space in spaces_for(traced).values() for c in space]
    assert {c.precision for c in gpu} == {"tf32x3"} and all(c.block_k >= 16 and c.block_n >= 16 for c in gpu)
    for c in gpu + configs_for(traced, "cpu"):
        assert parse_knobs(c.text("conv"), "conv") == [c], c.text("conv")
