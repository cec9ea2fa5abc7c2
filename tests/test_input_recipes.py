"""A trial's inputs travel as a recipe, not a file (tools/worker/input_recipe.py): the reference
worker reports how it made each trial's inputs and their fingerprint, and the candidate worker
makes the same bits itself. A problem whose get_inputs no seed controls still goes through files."""

from __future__ import annotations

import dataclasses
import json
import textwrap

import torch
from test_checker_failures import TWICE_PROBLEM, TWICE_SOLUTION

from kernelwright.cli import main
from kernelwright.tools.check.plan import plan_variants
from kernelwright.tools.worker import candidate_inputs, reference
from kernelwright.tools.worker.candidate_protocol import CandidateCase, CandidateRequest, InputRecipe
from kernelwright.tools.worker.common import load_module
from kernelwright.tools.worker.input_recipe import fingerprint, make_inputs
from kernelwright.tools.worker.reference_protocol import RecipeReport, ReferenceRequest

PROBLEM = textwrap.dedent(
    """
    import torch
    import torch.nn as nn


    class Model(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.lin = nn.Linear(n, n)

        def forward(self, x):
            return torch.nn.functional.normalize(self.lin(x), dim=-1)


    batch = 24
    n = 40


    def get_inputs():
        return [torch.randn(batch, n)]


    def get_init_inputs():
        return [n]
    """
)
# get_inputs draws from the operating system: no seed makes the same inputs twice.
UNSEEDED = PROBLEM.replace("return [torch.randn(batch, n)]",
                           "import os\n    g = torch.Generator().manual_seed(int.from_bytes(os.urandom(4), 'little'))\n"
                           "    return [torch.randn(batch, n, generator=g)]")
# The same, for a whole check: a kernel that doubles its input.
DOUBLE_UNSEEDED = TWICE_PROBLEM.replace("n = 1024", "n = 64").replace(
    "return [torch.randn(n, n)]",
    "import os\n    return [torch.randn(n, n, generator=torch.Generator().manual_seed(int.from_bytes(os.urandom(4), 'little')))]")


def run_reference(tmp_path, source: str) -> tuple[dict, list[str]]:
    problem = tmp_path / "problem.py"
    problem.write_text(source)
    shared, private = tmp_path / "shared", tmp_path / "private"
    shared.mkdir()
    private.mkdir()
    variants = plan_variants([{}], seed=42, trials=2, variant_trials=1, strict=True, variants=False)
    req = ReferenceRequest(device="cpu", problem_path=str(problem), shared_dir=str(shared), private_dir=str(private),
                           result_path=str(tmp_path / "result.json"), precision=None, mode="strict", serve=False, variants=variants)
    assert reference.main(req.model_dump_json()) == 0
    return json.loads((tmp_path / "result.json").read_text()), sorted(p.name for p in shared.iterdir())


def test_every_kind_of_trial_is_made_again_from_its_recipe_with_the_same_bits(tmp_path):
    report, files = run_reference(tmp_path, PROBLEM)
    assert report["ok"], report
    cases = report["variants"][0]["cases"]
    kinds = {c["kind"] for c in cases}
    assert kinds == {"plain", "perturb", "stress", "params"}, kinds
    assert not [f for f in files if f.startswith("inputs_")], files  # no input went through a file
    module = load_module("kw_recipe_problem", str(tmp_path / "problem.py"), report["variants"][0]["source"])
    for case in cases:
        recipe = InputRecipe(**case["inputs"])
        assert recipe.fingerprint
        assert fingerprint(make_inputs(module, recipe, torch.device("cpu"), None)) == recipe.fingerprint, case["id"]
    ties = next(c for c in cases if c["id"] == "perturb-ties")
    assert "all zeros" in ties["detail"] and ties["inputs"]["degenerate_rows"] is True
    assert all(c["inputs"]["stress_factor"] > 0 for c in cases if c["kind"] == "stress")
    # Another seed is other bits, and so another fingerprint.
    plain = InputRecipe(**cases[0]["inputs"])
    other = make_inputs(module, InputRecipe(seed=plain.seed + 1), torch.device("cpu"), None)
    assert fingerprint(other) != plain.fingerprint


def test_a_problem_no_seed_controls_sends_its_inputs_through_files(tmp_path):
    report, files = run_reference(tmp_path, UNSEEDED)
    assert report["ok"], report
    cases = report["variants"][0]["cases"]
    assert all(c["inputs"] is None for c in cases)
    assert {f"inputs_{c['id']}.pt" for c in cases} <= set(files)


def test_inputs_made_differently_in_the_candidates_process_stop_the_trial_with_the_reason(tmp_path):
    (tmp_path / "problem.py").write_text(PROBLEM)
    module = load_module("kw_recipe_problem2", str(tmp_path / "problem.py"))
    made = make_inputs(module, InputRecipe(seed=7), torch.device("cpu"), None)
    req = CandidateRequest(solution_path="s.py", device="cpu", precision=None, mode="strict", shared_dir=str(tmp_path),
                           out_dir=str(tmp_path), events_path=str(tmp_path / "e"), problem_path=str(tmp_path / "problem.py"))
    right = CandidateCase(id="a", seed=7, inputs=InputRecipe(seed=7, fingerprint=fingerprint(made)))
    wrong = CandidateCase(id="a", seed=7, inputs=InputRecipe(seed=7, fingerprint=fingerprint(made)[:-1] + "x"))
    assert torch.equal(candidate_inputs.case_inputs(right, req, module)[0], made[0])
    assert "differ from the reference's" in candidate_inputs.case_inputs(wrong, req, module)


def test_a_check_of_a_problem_no_seed_controls_still_judges_through_files(tmp_path, capsys):
    (tmp_path / "problem.py").write_text(DOUBLE_UNSEEDED)
    (tmp_path / "solution.py").write_text(TWICE_SOLUTION)
    # `kernelwright check` in this process (kernelwright.cli.main): the workers are what is tested,
    # and a check process would pay ~7 s of CPU for its imports and sandbox zygotes first.
    code = main(["check", str(tmp_path / "problem.py"), str(tmp_path / "solution.py"),
                 "--device", "cpu", "--home", str(tmp_path / "home"), "--no-variants", "--trials", "2", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err[-3000:]
    assert json.loads(out)["verdict"] == "accepted"


def test_the_reports_recipe_and_the_candidates_have_the_same_fields():
    # Two records of one thing (the candidate's process has no pydantic): they must not drift apart.
    assert [f.name for f in dataclasses.fields(InputRecipe)] == list(RecipeReport.model_fields)
    assert [f.default for f in dataclasses.fields(InputRecipe)][1:] == [f.default for f in RecipeReport.model_fields.values()][1:]
