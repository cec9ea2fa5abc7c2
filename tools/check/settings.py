"""The check options a user may set (config `check:`, and the defaults of `kernelwright check`'s flags)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DEVICE_PATTERN = r"^(auto|cpu|cuda|cuda:\d+)$"
COMPILE_BASELINES = ("compile", "compile_max_autotune")


class CheckSettings(BaseModel):
    """The verify pipeline's options a config may set: CheckOptions' (verify.py) user-facing fields.
    Their defaults are `kernelwright check`'s too (tests/test_config_model.py keeps CheckOptions' equal)."""

    model_config = ConfigDict(extra="forbid")

    device: str = Field("auto", pattern=DEVICE_PATTERN, description="auto, cpu, cuda or cuda:N")
    timeout_s: float = Field(300.0, gt=0, description="seconds each sandboxed step may take")
    trials: int = Field(5, ge=1, description="trials at the shipped sizes")
    seed: int = Field(42, ge=0, description="seed of the first trial; the others are secret")
    variant_trials: int = Field(2, ge=1, description="trials of each shape variant")
    variants: bool = Field(True, description="run the shape-variant trials")
    mode: Literal["strict", "compat"] = "strict"
    allow_torch_ops: bool = Field(False, description="allow aten compute ops in the forward")
    precision: Literal["fp32", "fp16", "bf16", "tf32"] | None = Field(
        None, description="cast floating inputs and weights (fp32/fp16/bf16); tf32 keeps fp32 and allows TF32 matmul operands")
    sizes: Literal["auto", "full"] = Field(
        "auto", description="on the CPU: auto (CPU_SIZES or an automatic reduction) or full (the file's sizes)")
    timing: bool = Field(True, description="on a GPU, time the candidate and the baselines")
    static_resources: bool = Field(True, description="read registers, spills and shared memory of each kernel")
    static_scan: bool = Field(True, description="scan the solution's source before running it")
    compile_baselines: list[Literal["compile", "compile_max_autotune"]] = Field(
        default_factory=lambda: list(COMPILE_BASELINES), description="torch.compile baselines to time on a GPU")
    keep_workdir: bool = Field(False, description="keep the sandbox's files (for debugging)")
