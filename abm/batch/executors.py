"""Executors: where the runs of a batch execute (DESIGN.md §9). No home-made scheduler.

All executors share one shape (:class:`Executor`): a context manager with ``workers`` (parallel
slots), ``description``, and :meth:`Executor.imap_unordered`, which keeps at most ``window``
tasks in flight and yields ``(task, result_or_exception)`` as they complete — so the caller
can write each result as it arrives and memory stays flat in the number of tasks. A task
function should catch its own exceptions (:func:`abm.batch.worker.run_task` does); what comes
back as an exception here is infrastructure: a dead worker process, a lost Dask worker.

* :class:`SerialExecutor` (``workers=0``): in this process, for debugging (``pdb`` works).
* :class:`LocalExecutor` (default): ``concurrent.futures.ProcessPoolExecutor`` with an explicit
  ``spawn`` start method. Why spawn: ``fork`` copies a parent that may hold threads (rich's
  refresh thread, BLAS pools, Dask) and can deadlock; ``import mesa`` already switches the
  start method globally, so being explicit makes the behaviour independent of import order;
  and spawn is the one method that works the same on Linux, macOS and Windows. The price, a
  fresh interpreter per worker (about a second of imports), is paid once per worker, not per
  run. Workers get one native thread each (``OMP_NUM_THREADS=1`` & co., set before numpy is
  imported) so N workers use N cores. A worker that dies (segfault, out of memory) breaks the
  pool and every run in flight with it; those runs are rerun on a fresh pool one at a time,
  alone, so innocent runs finish and a run that kills its worker again is recorded as failed
  (:class:`WorkerDied`).
* :class:`DaskExecutor`: ``distributed.Client`` on a running scheduler (``tcp://host:8786``)
  or on a ``LocalCluster`` (``"local"``), tasks via ``client.submit`` / ``as_completed``. The
  local cluster and its dashboard listen on 127.0.0.1 only, and a run whose worker dies twice
  is recorded as failed (``allowed-failures = 1``; the nanny restarts the worker); the other
  runs are rescheduled by Dask.

Running on a cluster
--------------------
Start a scheduler and workers (same Python environment, ``abm`` installed, and for a user
model a shared folder or the model installed)::

    dask scheduler --port 8786                                    # on the head node
    dask worker tcp://HEAD:8786 --nworkers 16 --nthreads 1        # on every compute node
    abm batch study.toml --scheduler tcp://HEAD:8786

On SLURM, ``dask-jobqueue`` submits the workers as jobs::

    from dask_jobqueue import SLURMCluster
    cluster = SLURMCluster(cores=16, processes=16, memory="64GB", walltime="02:00:00")
    cluster.scale(jobs=4)
    print(cluster.scheduler_address)          # pass to abm batch --scheduler

Use ``--nthreads 1`` (one process per core): runs are CPU-bound Python, so threads in one
worker process would contend for the GIL.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol, Self, TypeVar

from abm.batch.worker import THREAD_ENV, init_worker, warm_up
from abm.errors import UserInputError

T = TypeVar("T")
R = TypeVar("R")

#: Sentinel of an exhausted task iterator.
_END: Any = object()
#: Failure message of a run that killed its worker process twice.
WORKER_DIED_TWICE = (
    "the run killed its worker process twice (a crash in native code, running out of "
    "memory, or os._exit/a signal); it was rerun once alone to be sure, and is recorded as failed"
)


class WorkerDied(RuntimeError):
    """A run whose worker process died twice while running it (recorded as a failure)."""


#: The start method of local worker processes (see the module docstring).
START_METHOD = "spawn"
#: ``--workers`` may be at most this many times the cores available.
MAX_OVERSUBSCRIBE = 4
#: Where a Dask ``LocalCluster`` and its dashboard listen: this machine only.
LOCAL_HOST = "127.0.0.1"


def default_workers() -> int:
    """CPU cores available to this process."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def check_workers(workers: int | None, n_runs: int) -> int:
    """The number of local worker processes for a batch of ``n_runs``.

    The default is the cores available; never more processes than runs (no idle workers);
    ``0`` means in-process. Far more than the cores available (over :data:`MAX_OVERSUBSCRIBE`
    times) is refused: CPU-bound runs gain nothing from it, and thousands of processes can
    exhaust the machine's memory (use ``--scheduler`` for a cluster).
    """
    cores = default_workers()
    if workers is None:
        return max(1, min(cores, n_runs))
    if workers < 0:
        raise UserInputError(
            f"--workers must be 0 (in-process) or more, got {workers}", source="command line"
        )
    if workers > MAX_OVERSUBSCRIBE * cores:
        raise UserInputError(
            f"--workers {workers}: this process has {cores} cores; use at most "
            f"{MAX_OVERSUBSCRIBE * cores} (best: {cores}), or --scheduler for a cluster",
            source="command line",
        )
    return min(workers, max(1, n_runs)) if workers else 0


class Executor(Protocol):
    """What the batch runner needs from an executor."""

    workers: int
    description: str

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...

    def imap_unordered(
        self, fn: Callable[[T], R], tasks: Iterable[T], *, window: int | None = None
    ) -> Iterator[tuple[T, R | BaseException]]: ...


class SerialExecutor:
    """Run tasks one after another in this process (``--workers 0``: debugging)."""

    def __init__(self) -> None:
        self.workers = 1
        self.description = "in-process (serial)"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def imap_unordered(
        self, fn: Callable[[T], R], tasks: Iterable[T], *, window: int | None = None
    ) -> Iterator[tuple[T, R | BaseException]]:
        for task in tasks:
            try:
                yield task, fn(task)
            except Exception as exc:  # reported per task, like the pools do
                yield task, exc


class LocalExecutor:
    """A pool of ``workers`` spawned processes on this machine.

    Parameters
    ----------
    workers
        Number of worker processes (default: the cores available).
    model, sys_path
        Imported in every worker before the first task (so a broken model fails fast and
        import time is not charged to the first runs).
    """

    def __init__(
        self, workers: int | None = None, *, model: str = "abm", sys_path: tuple[str, ...] = ()
    ) -> None:
        self.workers = int(workers) if workers else default_workers()
        self.model = model
        self.sys_path = tuple(sys_path)
        self.description = f"local process pool ({self.workers} workers, {START_METHOD})"
        self._pool: ProcessPoolExecutor | None = None

    def _start(self) -> ProcessPoolExecutor:
        ctx = multiprocessing.get_context(START_METHOD)
        saved = {k: os.environ.get(k) for k in THREAD_ENV}
        # The spawned interpreters inherit os.environ at start: cap their native thread pools.
        for key in THREAD_ENV:
            os.environ.setdefault(key, "1")
        try:
            pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=ctx,
                initializer=init_worker,
                initargs=(self.sys_path,),
            )
            # Start every worker now, with the environment above, and import the model there.
            try:
                futures = [
                    pool.submit(warm_up, self.model, self.sys_path) for _ in range(self.workers)
                ]
                for fut in futures:
                    fut.result()
            except BrokenProcessPool as exc:
                pool.shutdown(wait=False, cancel_futures=True)
                raise RuntimeError(
                    "the worker processes could not start. A script that calls run_batch "
                    "must do so under `if __name__ == '__main__':` (workers are spawned and "
                    "import the main module)"
                ) from exc
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        return pool

    def __enter__(self) -> Self:
        self._pool = self._start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            if exc and exc[0] is not None:
                # Interrupted (Ctrl-C) or failing: do not wait for the runs in flight.
                for proc in list(getattr(self._pool, "_processes", {}).values()):
                    proc.terminate()
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def imap_unordered(
        self, fn: Callable[[T], R], tasks: Iterable[T], *, window: int | None = None
    ) -> Iterator[tuple[T, R | BaseException]]:
        """Yield ``(task, result)`` as runs finish; survive dead workers (module docstring).

        When a worker process dies, every run in flight is lost with the pool, but only one of
        them (at most) killed it. Those runs become suspects and are rerun on a fresh pool one
        at a time, alone: an innocent one finishes normally, and one that kills its worker
        again (alone, so certainly the culprit) is reported as :class:`WorkerDied`.
        """
        window = window or 2 * self.workers + 2
        if self._pool is None:
            self._pool = self._start()
        pending: dict[Future[R], T] = {}
        suspects: deque[T] = deque()
        solo = False  # whether the one task in flight is a suspect running alone
        it = iter(tasks)
        exhausted = False
        while True:
            broken = False
            if suspects and not pending:
                task = suspects.popleft()
                solo = True
                try:
                    pending[self._pool.submit(fn, task)] = task
                except BrokenProcessPool:
                    suspects.appendleft(task)
                    broken = True
            while not (suspects or solo or exhausted or broken) and len(pending) < window:
                task = next(it, _END)
                if task is _END:
                    exhausted = True
                    break
                try:
                    pending[self._pool.submit(fn, task)] = task
                except BrokenProcessPool:  # the pool died since the last wait: not run yet
                    suspects.append(task)
                    broken = True
            if not pending and not broken:
                return
            lost: list[T] = []
            if pending and not broken:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    task = pending.pop(fut)
                    exc = fut.exception()
                    if isinstance(exc, BrokenProcessPool):
                        lost.append(task)
                    else:
                        yield task, (fut.result() if exc is None else exc)
            if lost or broken:
                lost += list(pending.values())
                pending.clear()
                for task in lost:
                    if solo:
                        yield task, WorkerDied(WORKER_DIED_TWICE)
                    else:
                        suspects.append(task)
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._start()
            if not pending:
                solo = False


class DaskExecutor:
    """Tasks on a Dask cluster: a running scheduler (``tcp://host:port``) or ``"local"``.

    Parameters
    ----------
    scheduler
        ``"local"`` starts a ``LocalCluster`` of ``workers`` single-threaded processes (default:
        the cores available); otherwise the address of a running scheduler.
    workers
        Only for ``"local"``.
    wait_s
        How long to wait for the first worker to connect to a remote scheduler.
    """

    def __init__(self, scheduler: str, *, workers: int | None = None, wait_s: float = 60.0) -> None:
        scheduler = scheduler.strip()
        if scheduler != "local" and "://" not in scheduler:
            raise UserInputError(
                f"--scheduler {scheduler!r}: give 'local' or an address like tcp://host:8786",
                source="command line",
            )
        self.scheduler = scheduler
        self.n_local = int(workers) if workers else default_workers()
        self.wait_s = wait_s
        self.workers = 0
        self.description = ""
        self._client: Any = None
        self._cluster: Any = None

    def __enter__(self) -> Self:
        from distributed import Client, LocalCluster

        if self.scheduler == "local":
            import dask

            # Loopback only (no dashboard on the LAN, no unauthenticated scheduler port), and a
            # run whose worker dies twice is lost (KilledWorker), as with the local pool.
            with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
                self._cluster = LocalCluster(
                    n_workers=self.n_local,
                    threads_per_worker=1,
                    processes=True,
                    host=LOCAL_HOST,
                    dashboard_address=f"{LOCAL_HOST}:0",  # a free port: never clash
                )
            self._client = Client(self._cluster)
            where = f"Dask LocalCluster at {self._cluster.scheduler_address}"
        else:
            try:
                self._client = Client(self.scheduler, timeout="10s")
            except (OSError, TimeoutError) as exc:
                raise UserInputError(
                    f"--scheduler: cannot reach the Dask scheduler at {self.scheduler} ({exc})",
                    source="command line",
                ) from None
            try:
                self._client.wait_for_workers(1, timeout=self.wait_s)
            except TimeoutError:
                self._client.close()
                raise UserInputError(
                    f"--scheduler: no Dask worker connected to {self.scheduler} within "
                    f"{self.wait_s:.0f} s (start some with `dask worker {self.scheduler}`)",
                    source="command line",
                ) from None
            where = f"Dask scheduler {self.scheduler}"
        self.workers = self._threads()
        self.description = f"{where} ({self.workers} worker threads)"
        return self

    def _threads(self) -> int:
        info = self._client.scheduler_info(n_workers=-1)
        return sum(int(w.get("nthreads", 1)) for w in info.get("workers", {}).values()) or 1

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def imap_unordered(
        self, fn: Callable[[T], R], tasks: Iterable[T], *, window: int | None = None
    ) -> Iterator[tuple[T, R | BaseException]]:
        from distributed import as_completed

        client = self._client
        it = iter(tasks)
        pending: dict[Any, T] = {}
        seq = 0
        last_check = time.monotonic()

        def submit(task: T) -> Any:
            nonlocal seq
            seq += 1
            key = f"abm-run-{getattr(task, 'run_id', seq)}-{os.getpid()}-{seq}"
            fut = client.submit(fn, task, key=key, pure=False)
            pending[fut] = task
            return fut

        first = [submit(t) for t in _take(it, window or 2 * self.workers + 2)]
        if not first:
            return
        stream = as_completed(first)
        for fut in stream:
            task = pending.pop(fut)
            try:
                result = fut.result()
            except Exception as exc:  # lost worker, pickling, cancellation
                if type(exc).__name__ == "KilledWorker":
                    exc = WorkerDied(WORKER_DIED_TWICE.replace("alone ", ""))
                yield task, exc
            else:
                yield task, result
            fut.release()
            # The cluster can grow or shrink while we run: keep the window at 2x its threads.
            if time.monotonic() - last_check > 5.0:
                self.workers = self._threads()
                last_check = time.monotonic()
            target = window or 2 * self.workers + 2
            for nxt in _take(it, max(0, target - len(pending))):
                stream.add(submit(nxt))


def _take(it: Iterator[T], n: int) -> list[T]:
    out: list[T] = []
    for _ in range(n):
        try:
            out.append(next(it))
        except StopIteration:
            break
    return out


def make_executor(
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    model: str = "abm",
    sys_path: tuple[str, ...] = (),
) -> Executor:
    """The executor for ``--workers N`` / ``--scheduler ADDRESS`` (``workers=0``: serial)."""
    if workers is not None and scheduler is not None:
        raise UserInputError("use either --workers or --scheduler, not both", source="command line")
    if workers is not None and workers < 0:
        raise UserInputError(
            f"--workers must be 0 (in-process) or more, got {workers}", source="command line"
        )
    if scheduler is not None:
        return DaskExecutor(scheduler)
    if workers == 0:
        return SerialExecutor()
    return LocalExecutor(workers, model=model, sys_path=sys_path)
