"""Run the reliability tests and write docs/reliability.md from their results.

Every test tagged ``@pytest.mark.reliability(area, case)`` (a hostile input, an injected fault
or a load the application must survive) is run; the table lists, per area, each case with its
test id, result and duration. The document is produced from the test run only: nothing in it
is written by hand.

    python tools/reliability_report.py                 # all of them -> docs/reliability.md
    python tools/reliability_report.py -o out.md -- -k images   # extra pytest arguments

Exit status: pytest's (0 when every tagged test passed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO / "docs" / "reliability.md"
AREAS = {  # order and headings of the document
    "images": "Hostile and broken images",
    "models": "Hostile model files",
    "disk": "Disk faults",
    "process": "Process faults",
    "concurrency": "Concurrency",
    "resources": "Resources",
    "paths": "Paths",
}


def mark_problem(mark) -> str | None:
    """What is wrong with a ``reliability`` mark, or None (tests/conftest.py checks every
    collected test with it, so that a malformed mark fails the suite, not only this report)."""
    if len(mark.args) != 2 or mark.kwargs or not all(isinstance(a, str) for a in mark.args):
        return f"use reliability(area, case), got {mark.args!r} {mark.kwargs!r}"
    if mark.args[0] not in AREAS:
        return f"unknown area {mark.args[0]!r} (one of {', '.join(AREAS)})"
    return None


@dataclass
class Row:
    area: str
    case: str
    test_id: str
    result: str = "not run"
    duration_s: float = 0.0
    measured: str = ""  # the last line a test printed (e.g. peak memory)


class ReliabilityCollector:
    """A pytest plugin: the ``reliability(area, case)`` marks and the outcome of each test."""

    def __init__(self) -> None:
        self.rows: dict[str, Row] = {}
        self.problems: list[str] = []

    def pytest_collection_modifyitems(self, items) -> None:
        for item in items:
            mark = item.get_closest_marker("reliability")
            if mark is None:
                continue
            problem = mark_problem(mark)
            if problem:
                self.problems.append(f"{item.nodeid}: {problem}")
            else:
                self.rows[item.nodeid] = Row(*mark.args, item.nodeid)

    def pytest_runtest_logreport(self, report) -> None:
        row = self.rows.get(report.nodeid)
        if row is None:
            return
        row.duration_s += report.duration
        printed = [line for line in report.capstdout.splitlines() if line.strip()]
        if report.when == "call" and printed:
            row.measured = printed[-1].strip()[:160]
        if report.failed:
            row.result = "failed" if report.when == "call" else f"error ({report.when})"
        elif report.skipped and row.result == "not run":
            row.result = "skipped"
        elif report.passed and report.when == "call" and row.result == "not run":
            row.result = "passed"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(rows: list[Row], exit_code: int, elapsed_s: float) -> str:
    """The Markdown document."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.result] = counts.get(row.result, 0) + 1
    tally = ", ".join(f"{n} {result}" for result, n in sorted(counts.items()))
    lines = [
        "# Reliability",
        "",
        ("Every bad input tried, fault injected and load held by the test suite, with the "
         "result of the last run. Produced by `python tools/reliability_report.py` from the "
         "tests tagged `@pytest.mark.reliability(area, case)`; do not edit by hand."),
        "",
        (f"Last run: {dt.datetime.now().strftime('%Y-%m-%d %H:%M')}, "
         f"{platform.system()} {platform.machine()}, Python {platform.python_version()}: "
         f"{len(rows)} tests, {tally}; {elapsed_s:.0f} s (pytest exit code {exit_code})."),
        "",
        "| Area | Tests | Passed |",
        "|---|---:|---:|",
    ]
    for area, title in AREAS.items():
        in_area = [r for r in rows if r.area == area]
        if in_area:
            passed = sum(r.result == "passed" for r in in_area)
            lines.append(f"| [{title}](#{area}) | {len(in_area)} | {passed} |")
    for area, title in AREAS.items():
        in_area = sorted((r for r in rows if r.area == area), key=lambda r: (r.case, r.test_id))
        if not in_area:
            continue
        lines += ["", f'<a id="{area}"></a>', "", f"## {title}", "",
                  "| Case | Test | Result | Duration | Measured |", "|---|---|---|---:|---|"]
        for r in in_area:
            mark = "" if r.result == "passed" else "**"
            lines.append(f"| {_cell(r.case)} | `{_cell(r.test_id)}` | {mark}{r.result}{mark} | "
                         f"{r.duration_s:.2f} s | {_cell(r.measured)} |")
    others = sorted({r.area for r in rows} - set(AREAS))
    if others:
        lines += ["", f"Tests with unknown areas: {', '.join(others)}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT,
                        help=f"Markdown file to write (default {DEFAULT_OUTPUT.relative_to(REPO)})")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)

    import pytest

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.chdir(REPO)
    collector = ReliabilityCollector()
    started = dt.datetime.now()
    exit_code = int(pytest.main(["-m", "reliability", "-q", "-p", "no:cacheprovider",
                                 *args.pytest_args], plugins=[collector]))
    elapsed = (dt.datetime.now() - started).total_seconds()
    if collector.problems:
        print("\n".join(collector.problems), file=sys.stderr)
        return 2
    if not collector.rows:
        print("no test is tagged @pytest.mark.reliability: nothing written", file=sys.stderr)
        return exit_code or 5
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render(list(collector.rows.values()), exit_code, elapsed),
                           encoding="utf-8")
    print(f"wrote {args.output} ({len(collector.rows)} tests)")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
