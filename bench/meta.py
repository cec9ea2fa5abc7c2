"""bench.json: the suite a bench runs and the options it runs with (`BenchMeta`). A resumed bench
reads it back, so it stays readable as older benches wrote it (fields added later have defaults)."""

from __future__ import annotations

from kernelwright.bench.records import BenchRecord
from kernelwright.configs import RawConfig


class BenchOptions(BenchRecord):
    """The options every run of the bench gets; a resume must not change them."""

    config_path: str | None  # --config as given
    config_file: str | None  # the bench folder's copy of it (config.yaml), read by the workers
    overrides: RawConfig  # the run flags, as `run` builds them (validated by each run)
    policy: str | None  # the policy the runs use, as `run` decides it


class BenchSetup(BenchRecord):
    """What the bench decides before its folder exists (`BenchFolder.create` adds the id and time)."""

    dir: str  # the suite's folder
    problems: list[str]  # the problems' names, in the suite's order
    files: dict[str, str]  # name -> file name in `dir`
    device: str  # "cpu" or "cuda"
    options: BenchOptions
    versions: dict[str, str | None] | None = None  # tools.devices.versions()
    kernelbench_level: int | None = None  # set: the suite is a KernelBench level (its run folder is exported)
    started: str | None = None  # local time, for the report's header


class BenchMeta(BenchSetup):
    """bench.json."""

    bench_id: str
    created_at: float
