"""Executors that run `InspectionWorker` over units: a local process pool, or Ray Data.

Both take ``(unit dict, fingerprint)`` jobs and yield outcome dicts as units finish, in
completion order. ``start()`` brings the workers up (processes or actors with the
detector loaded) and returns how long that took, so start-up is reported apart from
steady-state throughput.

CPU share: a worker gets ``max(1, cpus // workers)`` threads for OpenCV and
onnxruntime unless ``threads`` is given. On Ray, each actor reserves
``(cpus - 1) / workers`` *logical* CPUs so one logical CPU always stays free for
Ray Data's own tasks: actors that take every CPU slot starve those tasks and the job
never finishes (ray-project/ray#44687). Logical CPUs are bookkeeping only; the actors
still use the cores they are given threads for.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import replace
from typing import Any, Protocol

from arinspect.batch.worker import InspectionWorker, WorkerConfig, unit_from_dict
from arinspect.errors import ConfigError

Job = tuple[dict[str, Any], str]


class Executor(Protocol):
    """What the batch driver needs from an executor."""

    name: str
    workers: int

    def start(self) -> float:
        """Bring the workers up; returns the seconds it took."""

    def run(self, jobs: list[Job]) -> Iterator[dict[str, Any]]:
        """Yield one outcome per job as each finishes."""

    def close(self) -> None:
        """Stop the workers."""


def cpu_count() -> int:
    """CPUs this process may use (the affinity mask, not the machine's total)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def threads_per_worker(cpus: float, workers: int) -> int:
    """Threads one worker gets so that ``workers`` of them never oversubscribe ``cpus``."""
    return max(1, int(cpus // workers))


def _check_counts(workers: int, threads: int | None) -> None:
    if workers < 1:
        raise ConfigError(f"workers must be at least 1, got {workers}")
    if threads is not None and threads < 1:
        raise ConfigError(f"threads must be at least 1, got {threads}")


# One worker per pool process, built by the pool initializer.
_WORKER: InspectionWorker | None = None


def _init_process(config: WorkerConfig) -> None:
    global _WORKER
    _WORKER = InspectionWorker(config)


def _ready() -> int:
    time.sleep(0.05)  # long enough that one process cannot answer every probe
    return os.getpid()


def _run_job(unit: dict[str, Any], unit_fingerprint: str) -> dict[str, Any]:
    assert _WORKER is not None, "the pool initializer did not run"
    return _WORKER.run(unit_from_dict(unit), unit_fingerprint)


class LocalExecutor:
    """A pool of ``workers`` processes on this machine (spawned: no inherited threads)."""

    name = "local"

    def __init__(self, config: WorkerConfig, workers: int, threads: int | None = None) -> None:
        _check_counts(workers, threads)
        self.workers = workers
        self.config = replace(config, threads=threads or threads_per_worker(cpu_count(), workers))
        self.pool: ProcessPoolExecutor | None = None

    def start(self) -> float:
        """Spawn the processes and wait until each has loaded its worker."""
        started = time.perf_counter()
        self.pool = ProcessPoolExecutor(
            self.workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_process, initargs=(self.config,),
        )  # fmt: skip
        pids: set[int] = set()
        while len(pids) < self.workers:
            pids |= {f.result() for f in [self.pool.submit(_ready) for _ in range(self.workers)]}
        return time.perf_counter() - started

    def run(self, jobs: list[Job]) -> Iterator[dict[str, Any]]:
        """Keep every process busy with at most one queued job each; yield as they finish."""
        assert self.pool is not None, "call start() first"
        pending = list(reversed(jobs))
        running: set[Future] = set()
        while pending or running:
            while pending and len(running) < 2 * self.workers:
                running.add(self.pool.submit(_run_job, *pending.pop()))
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()

    def close(self) -> None:
        """Shut the pool down (running jobs are abandoned when the driver is killed)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


class RayInspectionActor:
    """Ray Data callable class: one `InspectionWorker` per actor, built once."""

    def __init__(self, config: WorkerConfig) -> None:
        self.worker = InspectionWorker(config)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        """Inspect the units of a batch (batch size 1); outcomes as JSON strings."""
        import json

        outcomes = [
            json.dumps(self.worker.run(unit_from_dict(json.loads(u)), f))
            for u, f in zip(batch["unit"], batch["fingerprint"], strict=True)
        ]
        return {"outcome": outcomes}


class RayExecutor:
    """Ray Data over the jobs with an actor pool of ``workers`` `RayInspectionActor`s.

    Without ``address`` it starts a local Ray instance sized to this machine; with
    ``address`` (``auto`` or ``HOST:PORT``) it joins an existing cluster.
    """

    name = "ray"

    def __init__(
        self,
        config: WorkerConfig,
        workers: int,
        address: str | None = None,
        threads: int | None = None,
    ) -> None:
        _check_counts(workers, threads)
        try:
            import ray
        except ImportError as exc:
            raise ConfigError(
                "the ray executor needs the ray extra: scripts/install.sh ray "
                "(or pip install 'arinspect[ray]')"
            ) from exc
        self.ray = ray
        self.workers = workers
        self.address = address
        self.config = config
        self.threads = threads
        self.actor_cpus = 0.0

    def start(self) -> float:
        """Start (or join) Ray; the actors come up with the first jobs."""
        started = time.perf_counter()
        ray = self.ray
        if not ray.is_initialized():
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                       "configure_logging": False}  # fmt: skip
            if self.address:
                ray.init(address=self.address, **options)
            else:
                ray.init(num_cpus=cpu_count(), **options)
        cpus = float(ray.cluster_resources().get("CPU", 1))
        if cpus < 2:
            raise ConfigError(f"the Ray cluster has {cpus:g} CPUs; it needs at least 2")
        self.actor_cpus = (cpus - 1) / self.workers
        node_cpus = float(cpu_count()) if not self.address else cpus
        threads = self.threads or threads_per_worker(node_cpus, self.workers)
        self.config = replace(self.config, threads=threads)
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.execution_options.preserve_order = False
        context.wait_for_min_actors_s = 600  # all actors up before the first job
        return time.perf_counter() - started

    def run(self, jobs: list[Job]) -> Iterator[dict[str, Any]]:
        """Stream the jobs through the actor pool; yield outcomes as they arrive."""
        import json

        if not jobs:
            return
        items = [{"unit": json.dumps(u), "fingerprint": f} for u, f in jobs]
        dataset = self.ray.data.from_items(items, override_num_blocks=len(items))
        threads = str(self.config.threads)
        outcomes = dataset.map_batches(
            RayInspectionActor, fn_constructor_kwargs={"config": self.config},
            batch_size=1, compute=self.ray.data.ActorPoolStrategy(size=self.workers),
            num_cpus=self.actor_cpus,
            runtime_env={"env_vars": {"OMP_NUM_THREADS": threads}},
        )  # fmt: skip
        for row in outcomes.iter_rows():
            yield json.loads(row["outcome"])

    def close(self) -> None:
        """Leave Ray (a local instance started here stops)."""
        if self.ray.is_initialized():
            self.ray.shutdown()
