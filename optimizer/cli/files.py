"""`sourcing validate`, `sourcing schema` and `sourcing export-tables`: scenario files
checked, schemas printed, a scenario's suppliers, offers and demand written as tables."""

from __future__ import annotations

import enum
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from optimizer.cli.console import handle_errors, out_console, warn
from optimizer.cli.main import app
from optimizer.common.errors import ScenarioError
from optimizer.common.safe_text import escape
from optimizer.io.load import load_scenario


@app.command()
@handle_errors
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario files to check.", metavar="FILE")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON on stdout.")
    ] = False,
) -> None:
    """Load and check scenario files without solving; exit 2 if any is invalid.

    Prints `OK FILE (...)` on stdout for each valid file and every problem of
    an invalid one on stderr, as `FILE:LINE: field.path: message (got VALUE)`.
    """
    results = [_validate_one(path, as_json) for path in files]
    if as_json:
        sys.stdout.write(json.dumps(results, indent=2) + "\n")
    bad = sum(not r["ok"] for r in results)
    if bad:
        if len(results) > 1 and not as_json:
            typer.echo(f"{bad} of {len(results)} files are invalid", err=True)
        raise typer.Exit(2)


def _validate_one(path: Path, as_json: bool) -> dict[str, Any]:
    """Load one file; print its verdict unless the result goes out as JSON."""
    try:
        loaded = load_scenario(path)
    except ScenarioError as exc:
        if not as_json:
            typer.echo(str(exc), err=True)
        problems = [
            {"file": p.file, "line": p.line, "path": p.path, "message": p.message, "got": p.got}
            for p in exc.shown
        ]
        doc: dict[str, Any] = {"file": str(path), "ok": False, "problems": problems}
        if exc.not_shown:
            doc["more_problems"] = exc.not_shown  # counted, not listed (like the message)
        return doc
    sc = loaded.scenario
    for warning in loaded.warnings:
        warn(str(warning))
    if not as_json:
        typer.echo(
            escape(
                f"OK {path} ({sc.name}: {len(sc.materials)} materials, "
                f"{len(sc.suppliers)} suppliers, {sc.horizon.periods} periods)"
            )
        )
        return {"file": str(path), "ok": True}
    return {
        "file": str(path),
        "ok": True,
        "problems": [],
        "warnings": [
            {"file": w.file, "line": w.line, "path": w.path, "message": w.message}
            for w in loaded.warnings
        ],
        "scenario": sc.name,
        "content_hash": loaded.content_hash(),
    }


class SchemaOf(enum.StrEnum):
    """Which file a JSON Schema describes."""

    scenario = "scenario"
    summary = "summary"


@app.command()
@handle_errors
def schema(
    of: Annotated[
        SchemaOf,
        typer.Option("--of", help="scenario: scenario files (YAML); summary: summary.json."),
    ] = SchemaOf.scenario,
) -> None:
    """Print a JSON Schema on stdout: of scenario files (draft-07, for editors) or of the
    summary.json a run writes (for programs that read it).

    The committed copies are made with `sourcing schema > scenario.schema.json` and
    `sourcing schema --of summary > summary.schema.json`; point editors at the first
    with `# yaml-language-server: $schema=scenario.schema.json`.
    """
    if of is SchemaOf.summary:
        from optimizer.schema.summary import summary_json_schema

        doc = summary_json_schema()
    else:
        from optimizer.schema.scenario import json_schema

        doc = json_schema()
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")


@app.command("export-tables")
@handle_errors
def export_tables(
    scenario: Annotated[Path, typer.Argument(help="Scenario file to export.", metavar="SCENARIO")],
    to: Annotated[
        Path, typer.Option("--to", help="Write the tables and the YAML into this folder.")
    ],
    xlsx: Annotated[
        bool,
        typer.Option(
            "--xlsx", help="One workbook with the sheets Suppliers, Offers and Demand (not CSV)."
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Replace a --to folder that sourcing wrote before (never any other)."
        ),
    ] = False,
) -> None:
    """Write a scenario's suppliers, offers and demand as tables, and a YAML that names them.

    The folder gets suppliers.csv, offers.csv and demand.csv (with --xlsx one
    workbook NAME.xlsx) and NAME.yaml, which holds everything else and names
    the tables under `tables:`; running NAME.yaml gives the same plan as
    SCENARIO. Written all or nothing; a folder that export-tables (or another
    sourcing command) wrote is replaced only with --force, any other never.
    """
    from optimizer.io.tables.export import export_files
    from optimizer.reports.folder import ensure_writable, write_folder

    ensure_writable(to, force, [scenario])
    loaded = load_scenario(scenario)
    for warning in loaded.warnings:
        warn(str(warning))
    files = export_files(loaded.scenario, scenario.name, xlsx=xlsx)
    writers: dict[str, Callable[[Path], None]] = {
        name: functools.partial(_write_bytes, data) for name, data in files.items()
    }
    inputs = [scenario, *loaded.input_files]
    write_folder(to, writers, force, kind="export-tables", inputs=inputs)
    for name in files:
        out_console.print(escape(str(to / name)), markup=False)


def _write_bytes(data: bytes, path: Path) -> None:
    path.write_bytes(data)
