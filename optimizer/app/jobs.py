"""Solving scenario files as jobs: one, or many in parallel through an executor.

A job loads its file, solves it and builds its summary; it never raises: a
failure comes back as an exit code and the message the user should read
(with file and line for invalid files and infeasible policies), so that a
batch reports every file, and so that results cross process and machine
boundaries as plain data.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from optimizer.app.executor import Executor, Serial, make_executor
from optimizer.app.pipeline import PolicyInfeasible, RunResult, run_scenario
from optimizer.app.signals import signal_within
from optimizer.app.versions import versions
from optimizer.common.errors import (
    InfeasiblePolicy,
    JobFailed,
    Located,
    UserError,
    failure,
)
from optimizer.io.load import LoadedScenario, load_scenario
from optimizer.io.yaml_reader import dump_yaml
from optimizer.reports.csv_files import table_hashes
from optimizer.reports.summary import summary
from optimizer.results.plan import Plan
from optimizer.schema.summary import RunSummary
from optimizer.solve.status import SolverOptions


@dataclass(frozen=True)
class Job:
    """One scenario file to solve, and how."""

    path: str
    options: SolverOptions = field(default_factory=SolverOptions)
    decompose: str = "auto"
    part_jobs: int = 1  # worker processes for the parts of this one model
    part_scheduler: str | None = None  # or a Dask cluster for them (one file, --scheduler)
    evaluate: int | None = None  # `run --evaluate N`: price the plan on N fresh outcomes
    evaluate_seed: int | None = None


@dataclass
class JobResult:
    """What a job produced: a checked plan and its summary, or an exit code and message."""

    path: str
    exit_code: int
    message: str = ""
    summary: RunSummary | None = None  # summary.json of the plan
    run: RunResult | None = None
    resolved_yaml: str | None = None
    seconds: float = 0.0
    warnings: tuple[str, ...] = ()  # file:line: path: message, for stderr
    inputs: list[str] = field(default_factory=list)  # the file and its `extends` chain

    @property
    def ok(self) -> bool:
        """True when a plan was found."""
        return self.exit_code == 0

    @property
    def plan(self) -> Plan | None:
        """The checked plan (None when the job failed)."""
        return None if self.run is None else self.run.plan

    def raise_if_failed(self) -> None:
        """Raise the failure again as the user error it was (its message and exit code)."""
        if not self.ok:
            raise JobFailed(self.message, self.exit_code)


def locate_conflicts(
    loaded: LoadedScenario, exc: PolicyInfeasible, options: SolverOptions | None = None
) -> str:
    """Name the file and line of each policy that makes the scenario infeasible.

    Best: the smallest set of policies whose removal makes it feasible
    (`optimizer.explain`); else the conflicts found before solving.
    """
    from optimizer.analysis.explain import explain_loaded
    from optimizer.app.runner import PipelineRunner

    try:
        lines = explain_loaded(loaded, exc.conflicts, PipelineRunner(options or SolverOptions()))
    except (UserError, ValueError, RuntimeError):  # the explanation is a bonus, never a failure
        lines = []
    if lines:
        return "\n".join(lines)
    if not exc.conflicts:
        return f"{loaded.path}: {exc}"
    from optimizer.io.where import dotted_path

    lines = []
    for c in exc.conflicts:
        path = c.paths[0]
        file, line = loaded.locate(path)
        message = f"infeasible policy for {c.material}: {c.message}"
        lines.append(str(Located(file, line, dotted_path(path), message)))
    return "\n".join(lines)


def run_job(job: Job) -> JobResult:
    """Load, solve and summarize one scenario file; never raises."""
    t0 = time.perf_counter()
    loaded = None
    try:
        loaded = load_scenario(job.path)
        executor = make_executor(job.part_jobs, job.part_scheduler)
        run = run_scenario(loaded.scenario, job.options, decompose=job.decompose, executor=executor)
        doc = summary(
            run.plan,
            run.facts(),
            file=job.path,
            content_hash=loaded.content_hash(),
            versions=versions(),
            table_hashes=table_hashes(run.plan),  # checked by `stress` (issue 13)
        )
        if job.evaluate:
            from optimizer.app.evaluate import evaluate_plan

            evaluation = evaluate_plan(
                run.plan,
                job.evaluate,
                job.evaluate_seed,
                options=job.options,
                executor=executor,
                decompose=job.decompose,
            )
            doc = doc.model_copy(update={"evaluation": evaluation})
        return JobResult(
            job.path,
            0,
            summary=doc,
            run=run,
            resolved_yaml=dump_yaml(loaded.resolved_data()),
            seconds=time.perf_counter() - t0,
            warnings=tuple(f"warning: {w}" for w in loaded.warnings),
            inputs=[str(p) for p in loaded.input_files],
        )
    except PolicyInfeasible as exc:
        message = locate_conflicts(loaded, exc, job.options) if loaded is not None else str(exc)
        return JobResult(job.path, InfeasiblePolicy.exit_code, message)
    except Exception as exc:  # invalid file, no plan in time, a bug: keep the batch going
        signal = signal_within(exc)
        if signal is not None:  # a Ctrl-C that reached us wrapped: it stops the batch
            raise signal from None
        return JobResult(job.path, *failure(exc, job.path))


def run_batch(jobs: list[Job], executor: Executor | None = None) -> list[JobResult]:
    """Run every job (in parallel when the executor allows); results in input order."""
    executor = executor or Serial()
    return executor.map(run_job, jobs, label="scenarios")


def out_folder(out: Path, path: str, several: bool) -> Path:
    """Where a job's files go: `out` itself, or `out/<file stem>` for several files."""
    return out / Path(path).stem if several else out
