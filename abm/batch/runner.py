"""``abm batch``: run a study's scenarios × design points × replicates into a results folder.

:func:`run_batch` validates everything first (study file, flags, results folder), then runs the
pending runs on the chosen executor, writing each run's part files as it finishes
(:mod:`abm.batch.store`) while a progress bar shows the ETA, and ends with a summary table and a
per-scenario headline table. Memory stays flat in the number of runs: tasks are generated
lazily, at most a small window is in flight, and no result is kept after it is written.
"""

from __future__ import annotations

import platform
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from abm.batch.executors import check_workers, make_executor
from abm.batch.spec import Study, load_study, verify_plugin
from abm.batch.store import (
    FORMAT_VERSION,
    ResultStore,
    check_writable,
    git_commit,
    is_empty_dir,
    now,
    part_ids,
    read_manifest,
    versions,
)
from abm.batch.worker import Outcome, failure_outcome, run_task
from abm.errors import UserInputError

#: KPIs of the closing headline table: column, label, scale factor, format.
HEADLINE = (
    ("adoption_share_2050", "adoption 2050 (%)", 100.0, "{:.1f}"),
    ("soc_change_permille_mean", "SOC change (‰/yr)", 1.0, "{:.2f}"),
    ("public_cost_eur_per_tco2e", "public cost (€/t CO2e)", 1.0, "{:.0f}"),
)
#: Seconds between manifest updates while a batch runs.
MANIFEST_EVERY_S = 30.0


@dataclass(frozen=True)
class BatchSummary:
    """What a batch did.

    Attributes
    ----------
    out_dir
        The results folder.
    planned
        Runs in the study (scenarios × design points × replicates).
    done, failed
        Runs with a result / with a failure record in the folder, after this session.
    skipped
        Runs already done before this session (``--resume``).
    ran
        Runs executed in this session (finished or failed).
    wall_s
        Wall time of this session, seconds (startup included).
    s_per_run
        ``wall_s / ran``.
    workers
        Parallel slots of the executor.
    executor
        Description of the executor.
    """

    out_dir: Path
    planned: int
    done: int
    failed: int
    skipped: int
    ran: int
    wall_s: float
    s_per_run: float
    workers: int
    executor: str


def default_out(study: Study) -> Path:
    """``results/<experiment.name>``, relative to the current folder."""
    return Path("results") / study.name


def first_difference(a: Any, b: Any, path: str = "") -> tuple[str, Any, Any] | None:
    """The first place two JSON-like values differ: ``(dotted path, a's value, b's value)``."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in list(a) + [k for k in b if k not in a]:
            if key not in a or key not in b:
                return f"{path}.{key}".lstrip("."), a.get(key), b.get(key)
            diff = first_difference(a[key], b[key], f"{path}.{key}")
            if diff is not None:
                return diff
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            diff = first_difference(x, y, f"{path}[{i}]")
            if diff is not None:
                return diff
        return None
    return None if a == b else (path.lstrip("."), a, b)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_resume(out_dir: Path, spec: Mapping[str, Any], study: Path) -> dict[str, Any] | None:
    """The stored manifest when ``out_dir`` can be resumed with ``spec``; ``None`` if new."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UserInputError(f"--out {out_dir} is a file, not a folder", source="command line")
    if is_empty_dir(out_dir):
        return None
    manifest = read_manifest(out_dir)
    if manifest is None or manifest.get("kind") != "batch":
        raise UserInputError(
            f"--resume: {out_dir} is not a batch results folder (no batch manifest.json)",
            source="command line",
        )
    diff = first_difference(manifest.get("spec"), spec)
    if diff is not None:
        where, old, new = diff
        raise UserInputError(
            f"--resume: the study differs from the one that started {out_dir} at "
            f"{where.removeprefix('study.')} (stored {_short(old)}, now {_short(new)}); resume "
            "with the same study, or start a new --out",
            source=str(study),
        )
    return manifest


class _Progress:
    """A rich progress bar with ETA on a terminal; a line every ~10 % (or 30 s) otherwise."""

    def __init__(self, total: int, label: str, stream: Any = None) -> None:
        from rich.console import Console

        self.total = total
        self.label = label
        self.console = Console(file=stream or sys.stderr, stderr=stream is None)
        self.done = 0
        self.failed = 0
        self.t0 = time.perf_counter()
        self._bar: Any = None
        self._next_line = max(1, total // 10)  # no ETA from the very first run
        self._last_t = 0.0

    def __enter__(self) -> _Progress:
        if self.console.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("[red]{task.fields[failed]} failed"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
                transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=self.total, failed=0)
        else:
            self.console.print(f"{self.label}: {self.total} runs to do")
        return self

    def advance(self, ok: bool) -> None:
        self.done += 1
        self.failed += not ok
        if self._bar is not None:
            self._bar.update(self._task, advance=1, failed=self.failed)
            return
        elapsed = time.perf_counter() - self.t0
        due = self.done >= self._next_line and elapsed - self._last_t >= 2.0
        if due or elapsed - self._last_t > 30 or self.done == self.total:
            rate = elapsed / self.done
            eta = rate * (self.total - self.done)
            self.console.print(
                f"  {self.done}/{self.total} runs ({self.failed} failed), "
                f"{elapsed:.0f} s elapsed, ETA {eta:.0f} s"
            )
            self._next_line = self.done + max(1, self.total // 10)
            self._last_t = elapsed

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM (``kill``, a job scheduler's time limit) like Ctrl-C while a batch runs:
    the runs in flight are stopped, the manifest says "interrupted" with correct counts, and
    the ``--resume`` hint is printed. Only in the main thread (where signals are delivered)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _store(out_dir: Path) -> Iterator[ResultStore]:
    store = ResultStore(out_dir).open()
    try:
        yield store
    finally:
        store.close()


def run_batch(
    study: Path | str,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    out: Path | str | None = None,
    resume: bool = False,
    quiet: bool = False,
    allow_plugin: bool = False,
    plan: Study | None = None,
    posterior: Path | str | None = None,
) -> BatchSummary:
    """Run a study file's batch; see the module docstring.

    Parameters
    ----------
    study
        The study file (TOML, DESIGN.md §7a).
    workers
        Local worker processes (default: the cores available; ``0``: in this process).
    scheduler
        ``"local"`` (Dask ``LocalCluster``) or the address of a running Dask scheduler.
    out
        The results folder (default ``results/<experiment.name>``).
    resume
        Complete the batch in ``out``: skip the runs already there. The study must be the one
        that started it.
    quiet
        No progress bar and no tables (for tests and benchmarks).
    allow_plugin
        The user's consent to run a plug-in model named by the study
        (``model = "package.module:function"``); see :func:`abm.batch.spec.load_study`.
    plan
        The study already loaded by :func:`~abm.batch.spec.load_study` (``abm sensitivity``
        passes its own); default: load ``study``.
    posterior
        A calibration folder: replicate ``r`` runs with its posterior draw
        (:mod:`abm.calibration.posterior`).

    Returns
    -------
    BatchSummary

    Raises
    ------
    UserInputError
        For a bad study file, bad flags, or a results folder that is not empty (without
        ``resume``) or was started by a different study (with ``resume``); nothing is written.
    """
    t0 = time.perf_counter()
    study = Path(study)
    if plan is None:
        plan = load_study(study, allow_plugin=allow_plugin, verify_model=False)
    if posterior is not None:
        from abm.calibration.posterior import apply_to_plan

        apply_to_plan(plan, posterior)
    if scheduler is None:
        workers = check_workers(workers, plan.n_runs)
    executor = make_executor(
        workers=workers, scheduler=scheduler, model=plan.model, sys_path=plan.sys_path
    )
    out_dir = Path(out) if out is not None else default_out(plan)
    spec = plan.manifest_spec()
    previous = _check_resume(out_dir, spec, study) if resume else None
    if not resume:
        ResultStore.check_new(out_dir)
    else:
        check_writable(out_dir)
    verify_plugin(plan.model, plan.sys_path, str(study))  # imports only now: all else is valid
    if previous is not None and not quiet:
        before, current = previous.get("git_commit"), git_commit()
        if before and current and before != current:
            print(
                f"warning: {out_dir} was started at commit {before}, this is {current}; the "
                "finished runs are kept, so the tables may mix two versions of the code",
                file=sys.stderr,
            )
    # -- validation done: from here on, the folder is written ---------------------------------
    started = now()
    with _sigterm_as_interrupt(), executor, _store(out_dir) as store:
        if resume:
            store.clean()
        skip = store.done_ids()
        skipped = len(skip)
        todo = plan.n_runs - skipped
        manifest = _manifest(plan, study, spec, previous, started, executor.description)
        manifest["counts"] = _counts(out_dir, plan.n_runs)
        store.write_manifest(manifest)
        ran = 0
        worker_s = 0.0
        failures: list[str] = []
        status = "interrupted"
        last_manifest = time.perf_counter()
        label = f"{plan.name}"
        window = 2 * executor.workers + 2
        try:
            with _Progress(todo, label) if not quiet else _NoProgress() as progress:
                stream = executor.imap_unordered(run_task, plan.tasks(skip), window=window)
                for task, result in stream:
                    outcome = result if isinstance(result, Outcome) else None
                    if outcome is None:
                        assert isinstance(result, BaseException)
                        outcome = failure_outcome(task, result)
                    store.write(outcome)
                    ran += 1
                    worker_s += outcome.wall_s
                    if not outcome.ok and len(failures) < 3:
                        failures.append(f"{outcome.run_id}: {outcome.error}")
                    progress.advance(outcome.ok)
                    if time.perf_counter() - last_manifest > MANIFEST_EVERY_S:
                        manifest["counts"] = _counts(out_dir, plan.n_runs)
                        store.write_manifest(manifest)
                        last_manifest = time.perf_counter()
            status = "complete"
        finally:
            wall = time.perf_counter() - t0
            counts = _counts(out_dir, plan.n_runs)
            if status == "complete" and counts["done"] < plan.n_runs:
                status = "complete with failures"
            session = manifest["sessions"][-1]
            session.update(finished=now(), ran=ran, wall_s=round(wall, 3), status=status)
            manifest.update(finished=session["finished"], status=status, counts=counts)
            store.write_manifest(manifest)
            if status == "interrupted" and not quiet:
                print(
                    f"interrupted after {ran} runs: incomplete: {counts['done']} of "
                    f"{plan.n_runs} runs done, {counts['failed']} failed; finish with: "
                    f"abm batch {study} --out {out_dir} --resume"
                    + (" --allow-plugin" if allow_plugin else ""),
                    file=sys.stderr,
                )
    summary = BatchSummary(
        out_dir=out_dir,
        planned=plan.n_runs,
        done=counts["done"],
        failed=counts["failed"],
        skipped=skipped,
        ran=ran,
        wall_s=wall,
        s_per_run=wall / ran if ran else 0.0,
        workers=executor.workers,
        executor=executor.description,
    )
    if not quiet:
        print_summary(summary, plan, worker_s=worker_s, failures=failures)
    return summary


class _NoProgress:
    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def advance(self, ok: bool) -> None:
        return None


def _counts(out_dir: Path, planned: int) -> dict[str, int]:
    done = part_ids(out_dir, "runs")
    failed = part_ids(out_dir, "failures") - done
    return {"planned": planned, "done": len(done), "failed": len(failed)}


def _manifest(
    plan: Study,
    study: Path,
    spec: dict[str, Any],
    previous: Mapping[str, Any] | None,
    started: str,
    executor: str,
) -> dict[str, Any]:
    sessions = list(previous.get("sessions", [])) if previous else []
    commit = git_commit()
    sessions.append(
        {
            "started": started,
            "executor": executor,
            "command": " ".join(sys.argv),
            "git_commit": commit,
            "abm_version": versions().get("abm-4p1000"),
        }
    )
    try:
        text = study.read_text()
    except OSError:  # pragma: no cover - it was just read
        text = ""
    exp = plan.spec.experiment
    return {
        "format_version": FORMAT_VERSION,
        "kind": "batch",
        "experiment": plan.name,
        "description": exp.description,
        "study_file": str(study),
        "study_toml": text,
        "model": plan.model,
        "root_seed": exp.seed,
        "replicates": exp.replicates,
        "replicate_seeds": plan.seeds,
        "scenarios": [s.name for s in plan.scenarios],
        "scenario_descriptions": {s.name: s.description for s in plan.scenarios},
        "design_points": len(plan.design),
        "parameter_columns": [p for p, _ in plan.columns],
        "run_id_format": "<scenario>-d<design point>-r<replicate>",
        "spec": spec,
        "versions": versions(),
        "git_commit": commit,
        "host": platform.node(),
        "started": previous.get("started", started) if previous else started,
        "finished": None,
        "status": "running",
        "sessions": sessions,
    }


# -- printing --------------------------------------------------------------------------------


def _fmt_s(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s" if seconds >= 1 else f"{seconds * 1000:.0f} ms"


def print_summary(
    summary: BatchSummary, plan: Study, *, worker_s: float = 0.0, failures: list[str] | None = None
) -> None:
    """Print the closing summary and the per-scenario headline table (stdout)."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 110)
    table = Table(title=f"batch {plan.name}", show_header=False, title_justify="left")
    table.add_column("", style="bold")
    table.add_column("")
    table.add_row("runs done", f"{summary.done} of {summary.planned}")
    if summary.done + summary.failed < summary.planned:
        table.add_row("status", f"[red]incomplete: {summary.done} of {summary.planned} runs[/]")
    table.add_row("runs failed", f"[red]{summary.failed}[/]" if summary.failed else "0")
    if summary.skipped:
        table.add_row("skipped (resume)", str(summary.skipped))
    table.add_row("wall time", _fmt_s(summary.wall_s))
    if summary.ran:
        table.add_row(
            "per run",
            f"{_fmt_s(summary.s_per_run)} wall, {_fmt_s(worker_s / summary.ran)} in a worker",
        )
        util = worker_s / (summary.wall_s * summary.workers) if summary.wall_s else 0.0
        table.add_row("workers", f"{summary.workers} ({util:.0%} busy) — {summary.executor}")
    else:
        table.add_row("workers", f"{summary.workers} — {summary.executor}")
    table.add_row("results", str(summary.out_dir))
    console.print(table)
    for line in failures or []:
        console.print(f"[red]failed[/] {line}", highlight=False)
    if summary.failed:
        console.print(f"see {summary.out_dir / 'failures.parquet'}; rerun them with --resume")
    headline = headline_table(summary.out_dir, [s.name for s in plan.scenarios])
    if headline is not None:
        console.print(headline)


def headline_table(out_dir: Path, scenarios: list[str]) -> Any:
    """Per scenario: runs, then mean ± 95 % CI half-width of the headline KPIs (rich Table)."""
    from rich.table import Table

    from abm.batch.store import read_table
    from abm.report import mean_ci

    runs = read_table(out_dir, "runs")
    if runs.empty:
        return None
    cols = [h for h in HEADLINE if h[0] in runs.columns]
    if not cols:
        return None
    table = Table(
        title="per scenario: mean ± 95 % CI half-width over runs (adoption: mean [95 % CI], "
        "logit scale)",
        title_justify="left",
    )
    table.add_column("scenario", style="bold")
    table.add_column("runs", justify="right")
    for _, label, _, _ in cols:
        table.add_column(label, justify="right")
    for name in scenarios:
        sub = runs[runs["scenario"] == name]
        if sub.empty:
            continue
        cells = [name, str(len(sub))]
        for col, _, scale, fmt in cols:
            bounds = (0.0, 100.0) if col.startswith("adoption_share") else None
            mean, lo, hi, n = mean_ci(sub[col].to_numpy(dtype=float) * scale, bounds=bounds)
            if n == 0:
                cells.append("—")
            elif n == 1 or not (hi > lo):
                cells.append(fmt.format(mean))
            elif bounds is not None:
                cells.append(f"{fmt.format(mean)} [{fmt.format(lo)}, {fmt.format(hi)}]")
            else:
                cells.append(f"{fmt.format(mean)} ± {fmt.format((hi - lo) / 2)}")
        table.add_row(*cells)
    return table
