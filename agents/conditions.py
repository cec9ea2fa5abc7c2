"""The conditions a run's lessons are filed under and retrieved by: op family and dtype, read
from the reference's source (cheap and safe: nothing is imported or run).

The op family follows the memory's vocabulary (`memory.model.OP_FAMILIES`); when several
families meet in one problem the most specific wins (attention > conv > matmul > pool > norm >
scan > row-reduction > elementwise), because that is what its kernel will be organised around.
"""

from __future__ import annotations

import re

_FAMILY_PATTERNS: tuple[tuple[str, str], ...] = (
    ("attention", r"scaled_dot_product_attention|MultiheadAttention"),
    ("conv", r"\bconv(?:_transpose)?[123]d\b|\bConv(?:Transpose)?[123]d\b"),
    ("matmul", r"\b(?:matmul|bmm|mm|addmm|baddbmm|einsum|linear)\b|\bLinear\b|[\w)\]]\s*@\s*[\w(]"),
    ("pool", r"\b(?:max|avg|adaptive_avg|adaptive_max)_pool[123]d\b|\b(?:Max|Avg|AdaptiveAvg|AdaptiveMax)Pool[123]d\b"),
    ("norm", r"\b(?:layer_norm|group_norm|batch_norm|rms_norm|normalize)\b|\b(?:LayerNorm|GroupNorm|BatchNorm[123]d|RMSNorm)\b"),
    ("scan", r"\b(?:cumsum|cumprod|cummax|cummin|logcumsumexp)\s*\("),
    ("row-reduction", r"\b(?:softmax|log_softmax|sum|mean|amax|amin|max|min|var|std|logsumexp|norm|argmax|argmin|prod"
                      r"|cross_entropy|nll_loss|kl_div|mse_loss|l1_loss|smooth_l1_loss|huber_loss|cosine_similarity)\s*\("),
)


def op_family(source: str) -> str:
    """The memory op family of a reference program ('elementwise' when nothing else matches)."""
    code = _code_only(source)
    found = [family for family, pattern in _FAMILY_PATTERNS if re.search(pattern, code)]
    if found[:1] == ["matmul"] and re.search(r"\bsoftmax\s*\(", code):
        return "attention"  # scores = q @ k^T, softmax, @ v: written out by hand
    return found[0] if found else "elementwise"


def dtype(source: str) -> str:
    """'bf16' / 'fp16' when the reference makes its tensors so, else 'fp32'."""
    code = _code_only(source)
    if re.search(r"\bbfloat16\b", code):
        return "bf16"
    if re.search(r"\bfloat16\b|\bhalf\b", code):
        return "fp16"
    return "fp32"


def problem_conditions(source: str) -> dict[str, str]:
    return {"op_family": op_family(source), "dtype": dtype(source)}


def _code_only(source: str) -> str:
    """The source without comments and docstrings, so prose does not decide the family."""
    source = re.sub(r'("""|\'\'\')(?:.|\n)*?\1', "", source or "")
    return re.sub(r"#.*", "", source)
