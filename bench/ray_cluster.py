"""`kernelwright bench --executor ray`: the connection to a Ray cluster, and the bench's slots on it.

Without `--address`, Ray is started on this machine (its GPUs and cores); with `--address auto`
(the cluster this machine is part of) or `ray://HOST:10001` (Ray Client), the bench joins that
cluster and places one actor per GPU of the whole cluster (at most --jobs). Ray is an optional
dependency: `pip install 'kernelwright[ray]'`.
"""

from __future__ import annotations

import logging
from typing import Any

from kernelwright.bench.executor import Slot
from kernelwright.tools.problem import InputError

INSTALL_HINT = "pip install 'kernelwright[ray]'"


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise InputError(f"--executor ray needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray


class RayCluster:
    """A connected Ray runtime for one bench; `close()` disconnects (and stops Ray if it was started here)."""

    def __init__(self, address: str | None, num_cpus: int | None = None) -> None:
        import_ray()  # missing Ray is bad input, said before anything starts
        self.address, self.num_cpus = address, num_cpus
        self.connected = False

    def connect(self) -> None:
        """Start or join Ray, once: late, so bad input (a missing folder, a bad flag) is said without it."""
        if self.connected:
            return
        import ray

        try:
            # "local": a Ray of this bench's own, even if another runs on this machine (or RAY_ADDRESS is set);
            # its size (num_cpus, None: the machine's) only then: a cluster joined has its own.
            ray.init(address=self.address or "local", include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING,
                     num_cpus=self.num_cpus if self.address is None else None)
        except ConnectionError as exc:
            raise InputError(f"--address {self.address}: no Ray cluster answers there ({exc}); start one with `ray start --head`, "
                             "or leave --address out to start Ray on this machine") from None
        self.connected = True

    def resources(self) -> dict[str, float]:
        import ray

        self.connect()
        return ray.cluster_resources()

    def plan(self, device: str, jobs: int | None) -> tuple[list[Slot], str]:
        """(slots, device kind): one slot per GPU of the cluster (at most --jobs), or --jobs CPU slots."""
        if jobs is not None and jobs < 1:
            raise InputError("--jobs must be at least 1")
        resources = self.resources()
        gpus, cpus = int(resources.get("GPU", 0)), int(resources.get("CPU", 0))
        if device.startswith("cuda:"):
            raise InputError(f"--device {device}: with --executor ray, Ray gives each actor its GPU; use --device cuda or auto")
        if device not in ("auto", "cuda", "cpu"):
            raise InputError(f"--device {device}: expected auto, cpu or cuda")
        kind = "cpu" if device == "cpu" or (device == "auto" and gpus == 0) else "cuda"
        if kind == "cuda":
            if gpus == 0:
                raise InputError(f"--device {device}: the Ray cluster has no GPU (use --device cpu or auto)")
            # One actor per GPU, each holding its GPU whole (num_gpus=1): no two timings share a card.
            return [Slot(f"ray-gpu-{i}", "cuda:0") for i in range(min(gpus, jobs or gpus))], "cuda"
        if cpus == 0:
            raise InputError("--executor ray: the Ray cluster has no CPU to run on")
        n = min(cpus, jobs or max(1, min(4, cpus // 2)))
        return [Slot(f"ray-cpu-{i}", "cpu") for i in range(n)], "cpu"

    def executor(self, slots: list[Slot]):
        from kernelwright.bench.ray_executor import RayExecutor

        self.connect()
        return RayExecutor(slots)

    def close(self) -> None:
        """Disconnect; a Ray started here (no --address) stops with it."""
        import ray

        if self.connected:
            ray.shutdown()
            self.connected = False
