"""What a sandboxed child may use: the user's settings (config `sandbox:`), with their defaults."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

GIB = 2**30


class SandboxPolicy(BaseModel):
    """Limits and requirements of every sandboxed child.

    Memory is capped by address space on the CPU only: CUDA reserves virtual address ranges far
    beyond physical memory, so on a GPU the cap would stop CUDA itself, not the candidate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    require_full: bool = Field(False, description="refuse to run (exit 2) unless every isolation layer is active")
    memory_gb: float | None = Field(None, gt=0, description="address-space cap per child on the CPU; null: half of this machine's memory")
    cpu_s: int | None = Field(None, gt=0, description="CPU seconds per child (all threads); null: 4 x the wall timeout x cores")
    max_processes: int = Field(512, gt=0, description="processes and threads of the child's user (the kernel does not apply it to root)")
    max_open_files: int = Field(4096, gt=0)
    max_file_gb: float = Field(64.0, gt=0, description="largest file a child may write")

    def memory_bytes(self, physical_bytes: int) -> int:
        if self.memory_gb is not None:
            return int(self.memory_gb * GIB)
        return max(4 * GIB, physical_bytes // 2)
