"""A reference that returns one of torch's named tuples (`torch.aminmax(x, dim)`, `torch.max(x, dim)`,
`topk`, `sort`: the `torch.return_types` structseqs) is judged like one returning a plain tuple of
the same tensors (`tools/worker/trials.py::plain_tuples`). Before, the judge compared the exact type
and every candidate was `output_type` ("expected a aminmax of 2"), the honest one included."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernelwright.tools.check.verdicts import Verdict
from kernelwright.tools.check.verify import CheckOptions, verify_solution

from paths import ROOT

DATA = ROOT / "tests" / "data" / "named_tuple"


@pytest.mark.parametrize("swapped, verdict", [(False, Verdict.ACCEPTED), (True, Verdict.WRONG_OUTPUT)], ids=["honest", "swapped"])
def test_a_named_tuple_reference_is_matched_by_a_plain_tuple_and_its_values_still_judged(tmp_path, swapped, verdict):
    solution = Path(DATA / "aminmax_rows_solution.py").read_text()
    if swapped:  # the same two tensors in the wrong order: the values decide, not the types
        solution = solution.replace("return mn, mx", "return mx, mn")
    path = tmp_path / "solution.py"
    path.write_text(solution)
    result = verify_solution(DATA / "aminmax_rows.py", path, CheckOptions(device="cpu", timing=False, static_resources=False,
                                                                           variants=False, home=tmp_path / "home"))
    assert result.verdict is verdict, result.reasons
