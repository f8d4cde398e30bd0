"""``liucheng bpmn ...``: check and round-trip BPMN files."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from liucheng.errors import LiuchengError, ModelProblem

if TYPE_CHECKING:
    from liucheng.model import Definitions

from ._app import app

bpmn_app = typer.Typer(help="Check, validate and round-trip BPMN 2.0 files.", no_args_is_help=True)
app.add_typer(bpmn_app, name="bpmn")


def _problem_from_error(exc: LiuchengError, file: str) -> ModelProblem:
    return ModelProblem(
        code=exc.code,
        message=exc.message,
        severity="error",
        element_id=exc.element_id,
        file=exc.file or file,
        line=exc.line,
        hint=exc.hint,
    )


def count_elements(defs: Definitions) -> Counter[str]:
    """Flow elements of every process by BPMN type (subprocess content included)."""
    from liucheng.model import SubProcess

    counts: Counter[str] = Counter()

    def walk(elements: tuple[Any, ...]) -> None:
        for el in elements:
            counts[el.element_type] += 1
            if isinstance(el, SubProcess):
                walk(el.flow_elements)

    for process in defs.processes:
        walk(process.flow_elements)
    return counts


def summarise(path: Path) -> dict[str, Any]:
    """Parse, validate and describe one BPMN file (JSON-ready)."""
    # The model package is imported by the commands that use it: `liucheng --help` stays fast.
    from liucheng.model import parse_bpmn, validate

    try:
        defs = parse_bpmn(path)
    except LiuchengError as exc:
        return {"file": str(path), "ok": False, "error": exc.to_dict(), "processes": []}
    problems = validate(defs)
    errors = [p for p in problems if p.severity == "error"]
    return {
        "file": str(path),
        "ok": not errors,
        "processes": [
            {
                "id": p.id,
                "name": p.name,
                "executable": p.executable,
                "lanes": [lane.name or lane.id for lane in p.lanes],
            }
            for p in defs.processes
        ],
        "elements": dict(sorted(count_elements(defs).items())),
        "errors": len(errors),
        "warnings": len(problems) - len(errors),
        "problems": [p.to_dict() for p in problems],
    }


def _expand(paths: list[Path]) -> list[Path]:
    """Files as given; folders stand for every ``*.bpmn`` file below them."""
    out: list[Path] = []
    for path in paths:
        out.extend(sorted(path.rglob("*.bpmn")) if path.is_dir() else [path])
    return out


def check_file(path: Path, *, engine: bool | None = None) -> list[ModelProblem]:
    """Parse and validate one file; a file that cannot be read gives one error problem."""
    from liucheng.model import parse_bpmn, validate

    try:
        defs = parse_bpmn(path)
    except LiuchengError as exc:
        return [_problem_from_error(exc, str(path))]
    return validate(defs, engine=engine)


@bpmn_app.command("check")
def check(
    files: Annotated[list[Path], typer.Argument(help="BPMN files (or folders) to check.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Treat warnings as errors (exit 1).")
    ] = False,
    engine: Annotated[
        bool | None,
        typer.Option(
            "--engine/--descriptive",
            help="Apply execution rules as errors (default: decided from the file's dialect).",
        ),
    ] = None,
) -> None:
    """Parse and validate BPMN files; exit 0 when every file is valid.

    Each problem is shown as ``file:line [element id] severity code: message (hint)``.
    """
    results: list[dict[str, Any]] = []
    total_errors = total_warnings = 0
    files = _expand(files)
    for path in files:
        problems = check_file(path, engine=engine)
        errors = sum(1 for p in problems if p.severity == "error")
        warnings = len(problems) - errors
        total_errors += errors
        total_warnings += warnings
        ok = errors == 0 and (not strict or warnings == 0)
        results.append(
            {
                "file": str(path),
                "ok": ok,
                "errors": errors,
                "warnings": warnings,
                "problems": [p.to_dict() for p in problems],
            }
        )
        if not as_json:
            for p in problems:
                typer.echo(str(p))
            state = "ok" if ok else "FAILED"
            typer.echo(f"{path}: {state} ({errors} errors, {warnings} warnings)")
    all_ok = all(r["ok"] for r in results)
    if as_json:
        doc = {
            "ok": all_ok,
            "errors": total_errors,
            "warnings": total_warnings,
            "files": results,
        }
        typer.echo(json.dumps(doc, ensure_ascii=False))
    elif len(files) > 1:
        bad = sum(1 for r in results if not r["ok"])
        typer.echo(f"{len(files)} files checked, {bad} failed")
    if not all_ok:
        # sys.exit, not typer.Exit: main() runs the app with standalone_mode=False, where
        # click turns Exit into a return value and the status would be lost.
        sys.exit(1)


@bpmn_app.command("roundtrip")
def roundtrip(
    source: Annotated[Path, typer.Argument(help="BPMN file to read.")],
    target: Annotated[Path, typer.Argument(help="BPMN file to write.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Parse SOURCE and write it to TARGET, keeping every element, extension and DI shape."""
    from liucheng.model import parse_bpmn, write_bpmn

    defs = parse_bpmn(source)
    data = write_bpmn(defs)
    try:
        target.write_bytes(data)
    except OSError as exc:
        raise LiuchengError(
            f"cannot write {target}: {exc.strerror or exc}",
            code="cli.write_failed",
            file=str(target),
            hint="check that the folder exists and is writable",
        ) from None
    count = sum(1 for _ in defs.all_elements())
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "source": str(source),
                    "target": str(target),
                    "elements": count,
                    "bytes": len(data),
                }
            )
        )
    else:
        typer.echo(f"{source} -> {target}: {count} elements, {len(data)} bytes")


@bpmn_app.command("info")
def info(
    files: Annotated[list[Path], typer.Argument(help="BPMN files (or folders) to describe.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Describe BPMN files: processes, lanes, element counts and validation status."""
    results = [summarise(path) for path in _expand(files)]
    if as_json:
        typer.echo(json.dumps({"files": results}, ensure_ascii=False))
        return
    for result in results:
        print_summary(result)


def print_summary(result: dict[str, Any]) -> None:
    """Print what :func:`summarise` found, for people."""
    status = "valid" if result["ok"] else "INVALID"
    typer.echo(f"{result['file']}: {status}")
    if "error" in result:
        err = result["error"]
        typer.echo(f"  error {err['code']}: {err['message']}")
        return
    for p in result["processes"]:
        kind = "executable" if p["executable"] else "descriptive"
        typer.echo(f"  process {p['id']} ({p['name'] or 'no name'}), {kind}")
        if p["lanes"]:
            typer.echo(f"    lanes: {', '.join(p['lanes'])}")
    counts = ", ".join(f"{k} {v}" for k, v in result["elements"].items())
    typer.echo(f"  elements: {counts}")
    typer.echo(f"  validation: {result['errors']} errors, {result['warnings']} warnings")
    for problem in result["problems"]:
        line = f":{problem['line']}" if problem["line"] else ""
        typer.echo(
            f"    {problem['severity']} {problem['code']}{line} [{problem['element_id']}] "
            f"{problem['message']}"
        )
    typer.echo("")
