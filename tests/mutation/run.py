"""Run mutmut over one or more targets and write the scores to docs/quality.md.

    python -m tests.mutation.run csrf access      # some modules
    python -m tests.mutation.run                  # every module (hours)

Each target runs in its own copy of the checkout (under
``$HOMEWARD_MUTATE_DIR``, default ``/tmp/homeward-mutate``), so the mutants
never touch the working tree others are testing. Results are kept per
module in ``tests/mutation/results.json``; the "Mutation testing" section of
``docs/quality.md`` is rebuilt from it and the rest of that file is kept.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.mutation.targets import BEFORE, EQUIVALENT, NOTES, PLANTED, TARGETS, Target

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "tests" / "mutation" / "results.json"
QUALITY = ROOT / "docs" / "quality.md"
HEADING = "## Mutation testing"
COPIED = ("server", "tests", "locales", "pwa", "static")
CAUGHT = {"killed", "timeout"}  # a mutant that hangs the tests is caught too
BIN = Path(sys.executable).parent
TEMPLATE = "template.sqlite3"
MIGRATE = "import asyncio, sys; from server import db; asyncio.run(db.migrate(sys.argv[1]))"
# Held around every read-modify-write of results.json and docs/quality.md:
# several runs (other modules) may finish at the same time.
RESULTS_LOCK = Path(tempfile.gettempdir()) / "homeward-mutation-results.lock"


@contextlib.contextmanager
def results_locked() -> Iterator[None]:
    with RESULTS_LOCK.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_results() -> dict[str, dict[str, Any]]:
    return json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}


def write_results(results: dict[str, dict[str, Any]]) -> None:
    RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def mutmut_config(target: Target) -> str:
    def toml_list(items: tuple[str, ...] | list[str]) -> str:
        return "[" + ", ".join(json.dumps(i) for i in items) + "]"

    return "\n".join(
        [
            "",
            "[tool.mutmut]",
            'source_paths = ["server"]',
            f"only_mutate = {toml_list(target.mutate)}",
            f"also_copy = {toml_list(['locales', 'pwa', 'static'])}",
            # -x: a mutant is caught at the first failing test.
            'pytest_add_cli_args = ["-x", "-q", "-p", "no:cacheprovider"]',
            f"pytest_add_cli_args_test_selection = {toml_list(target.tests)}",
            "timeout_multiplier = 5.0",
            "timeout_constant = 10.0",
            "",
        ]
    )


def prepare(work: Path, target: Target) -> None:
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in COPIED:
        shutil.copytree(ROOT / name, work / name, ignore=ignore)
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (work / "pyproject.toml").write_text(pyproject + mutmut_config(target), encoding="utf-8")
    # One migrated SQLite database that every mutant's test session copies
    # (tests/conftest.py): migrating took most of each mutant's time. Made
    # from the unmutated copy; migrations are never a mutation target.
    subprocess.run(
        [sys.executable, "-c", MIGRATE, f"sqlite://{work / TEMPLATE}"], cwd=work, check=True
    )


def mutmut(work: Path, *args: str) -> str:
    env = {**os.environ, "HOMEWARD_TEST_DB": "sqlite", "CI": os.environ.get("CI", "")}
    if (work / TEMPLATE).exists():
        env["HOMEWARD_TEST_SQLITE_TEMPLATE"] = str(work / TEMPLATE)
    done = subprocess.run(
        [str(BIN / "mutmut"), *args], cwd=work, env=env, capture_output=True, text=True
    )
    return done.stdout


def changed_lines(diff: str) -> tuple[str, str]:
    removed = [
        ln[1:].strip()
        for ln in diff.splitlines()
        if ln.startswith("-") and not ln.startswith("---")
    ]
    added = [
        ln[1:].strip()
        for ln in diff.splitlines()
        if ln.startswith("+") and not ln.startswith("+++")
    ]
    return " / ".join(removed), " / ".join(added)


def run_target(key: str, work_root: Path, children: int, collect: bool) -> dict[str, Any]:
    """Mutate one target and sort its mutants; ``collect`` only reads the last run."""
    target = TARGETS[key]
    work = work_root / key
    started = datetime.now(UTC)
    if not collect:
        prepare(work, target)
        log = mutmut(work, "run", "--max-children", str(children))
        (work / "mutmut-run.log").write_text(log, encoding="utf-8")
        timing = {
            "date": started.strftime("%Y-%m-%d %H:%M UTC"),
            "minutes": round((datetime.now(UTC) - started).total_seconds() / 60, 1),
        }
        (work / "timing.json").write_text(json.dumps(timing), encoding="utf-8")
    timing = json.loads((work / "timing.json").read_text(encoding="utf-8"))
    statuses: dict[str, str] = {}
    for line in mutmut(work, "results", "--all", "true").splitlines():
        name, _, status = line.strip().rpartition(": ")
        if name:
            statuses[name] = status
    if not statuses or all(s == "not checked" for s in statuses.values()):
        # Usually the tests failed before any mutant (see the log): no score.
        raise SystemExit(f"mutmut checked no mutant of {key}; see {work}/mutmut-run.log")
    survivors, equivalent = [], []
    for name, status in sorted(statuses.items()):
        if status in CAUGHT:
            continue
        removed, added = changed_lines(mutmut(work, "show", name))
        entry = {"mutant": name, "status": status, "before": removed, "after": added}
        rule = next((e for e in EQUIVALENT.get(key, ()) if e.matches(removed, added)), None)
        if rule is not None:
            equivalent.append({**entry, "reason": rule.reason})
        else:
            survivors.append(entry)
    caught = sum(1 for s in statuses.values() if s in CAUGHT)
    return {
        "modules": list(target.mutate),
        "tests": list(target.tests),
        "date": timing["date"],
        "minutes": timing["minutes"],
        "total": len(statuses),
        "caught": caught,
        "timeouts": sum(1 for s in statuses.values() if s == "timeout"),
        "equivalent": equivalent,
        "survivors": survivors,
    }


def recheck_target(
    key: str, work_root: Path, children: int, previous: dict[str, Any]
) -> dict[str, Any]:
    """Run only the survivors of the stored result again, with today's tests.

    Valid only while the mutated files are unchanged since that run (then
    the mutants and their names are the same, and a mutant caught before is
    still caught: tests were only added). Much faster than a whole run.
    """
    target = TARGETS[key]
    if list(target.mutate) != previous["modules"]:
        raise SystemExit(f"{key}: its files changed since the last run; run it whole")
    ran = datetime.strptime(previous["date"], "%Y-%m-%d %H:%M UTC").replace(tzinfo=UTC)
    for pattern in target.mutate:
        for path in ROOT.glob(pattern):
            if datetime.fromtimestamp(path.stat().st_mtime, UTC) >= ran:
                raise SystemExit(f"{key}: {path.name} changed since the last run; run it whole")
    # Those the rules now call equivalent need no run: reclassify() moves them.
    names = [
        entry["mutant"]
        for entry in previous["survivors"]
        if not any(e.matches(entry["before"], entry["after"]) for e in EQUIVALENT.get(key, ()))
    ]
    work = work_root / key
    started = datetime.now(UTC)
    prepare(work, target)
    log = mutmut(work, "run", "--max-children", str(children), *names)
    (work / "mutmut-run.log").write_text(log, encoding="utf-8")
    statuses: dict[str, str] = {}
    for line in mutmut(work, "results", "--all", "true").splitlines():
        name, _, status = line.strip().rpartition(": ")
        if name in names:
            statuses[name] = status
    if not statuses or any(statuses.get(n, "not checked") == "not checked" for n in names):
        raise SystemExit(f"mutmut did not check every survivor of {key}; see {work}/mutmut-run.log")
    survivors = [
        {**entry, "status": statuses.get(entry["mutant"], entry["status"])}
        for entry in previous["survivors"]
        if statuses.get(entry["mutant"]) not in CAUGHT
    ]
    newly = [n for n in names if statuses[n] in CAUGHT]
    return {
        **previous,
        "tests": list(target.tests),
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "minutes": round((datetime.now(UTC) - started).total_seconds() / 60, 1),
        "caught": int(previous["caught"]) + len(newly),
        "timeouts": int(previous["timeouts"]) + sum(1 for n in newly if statuses[n] == "timeout"),
        "survivors": survivors,
        "rechecked": f"{len(names)} survivors of the run of {previous['date']}",
    }


def reclassify(results: dict[str, dict[str, Any]]) -> None:
    """Apply the equivalence rules as they are now to every stored survivor."""
    for key, result in results.items():
        entries = result["survivors"] + result["equivalent"]
        result["survivors"], result["equivalent"] = [], []
        for entry in sorted(entries, key=lambda e: e["mutant"]):
            entry.pop("reason", None)
            rule = next(
                (e for e in EQUIVALENT.get(key, ()) if e.matches(entry["before"], entry["after"])),
                None,
            )
            if rule is None:
                result["survivors"].append(entry)
            else:
                result["equivalent"].append({**entry, "reason": rule.reason})


def score(result: dict[str, object]) -> float:
    total = int(result["total"]) - len(result["equivalent"])  # type: ignore[arg-type]
    return 100.0 * int(result["caught"]) / total if total else 100.0  # type: ignore[call-overload]


def section(results: dict[str, dict[str, object]]) -> str:
    lines = [
        HEADING,
        "",
        "`make mutate` (or `make mutate MODULES='csrf access'`) runs "
        "[mutmut](https://github.com/boxed/mutmut) 3 over the modules that guard people "
        "and data, each against a fixed, small set of test files on SQLite, stopping a "
        "mutant's run at the first failing test (`-x`) and at a timeout. Score = caught / "
        "(mutants - equivalent); target 90 % per module. Generated by "
        "`tests/mutation/run.py` from `tests/mutation/results.json`; equivalents are "
        "declared, with their reason, in `tests/mutation/targets.py`.",
        "",
        "| module | files | score | before | caught | survived | equivalent | mutants | tests "
        "| run |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key in TARGETS:
        result = results.get(key)
        if result is None:
            files = ", ".join(f"`{m}`" for m in TARGETS[key].mutate)
            lines.append(
                f"| {key} | {files} | not run yet | {BEFORE.get(key, '')} | | | | | "
                f"{', '.join(TARGETS[key].tests)} | `make mutate MODULES={key}` |"
            )
            continue
        survivors = result["survivors"]
        equivalent = result["equivalent"]
        files = ", ".join(f"`{m}`" for m in result["modules"])  # type: ignore[attr-defined]
        lines.append(
            f"| {key} | {files} | {score(result):.0f} % | {BEFORE.get(key, '')} | "
            f"{result['caught']} | "
            f"{len(survivors)} | {len(equivalent)} | {result['total']} | "  # type: ignore[arg-type]
            f"{', '.join(result['tests'])} | {result['date']}, {result['minutes']} min |"  # type: ignore[arg-type]
        )
    lines += ["", *(f"- {note}" for note in NOTES)]
    lines += [
        "",
        "Not part of `make test`: mutmut's set-up alone (copy, clean run, coverage of "
        "each test) takes about a minute per module here, so even a small fixed sample "
        "would not stay under 30 s.",
        "",
        "### Planted bugs",
        "",
        "Single-line bugs planted by hand that had survived the whole suite, and the "
        "test that now fails on each:",
        "",
        *(f"- {bug}: `tests/{test}`" for bug, test in PLANTED),
    ]
    for key in TARGETS:
        result = results.get(key)
        if result is None or not (result["survivors"] or result["equivalent"]):
            continue
        lines += ["", f"### {key}", ""]
        for entry in result["equivalent"]:  # type: ignore[attr-defined]
            lines.append(
                f"- equivalent `{entry['mutant']}`: `{entry['before']}` → `{entry['after']}` "
                f"— {entry['reason']}"
            )
        untriaged = len(result["survivors"]) > 30  # type: ignore[arg-type]
        if untriaged:
            lines += ["<details><summary>survivors</summary>", ""]
        for entry in result["survivors"]:  # type: ignore[attr-defined]
            lines.append(
                f"- **{entry['status']}** `{entry['mutant']}`: `{entry['before']}` → "
                f"`{entry['after']}`"
            )
        if untriaged:
            lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def write_quality(results: dict[str, dict[str, object]]) -> None:
    text = QUALITY.read_text(encoding="utf-8") if QUALITY.exists() else "# Quality\n"
    start = text.find(HEADING)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section(results)
    else:
        end = text.find("\n## ", start + len(HEADING))
        rest = text[end + 1 :] if end != -1 else ""
        text = text[:start] + section(results) + ("\n" + rest if rest else "")
    QUALITY.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=", ".join(TARGETS))
    parser.add_argument("--children", type=int, default=int(os.environ.get("MUTATE_JOBS", "1")))
    parser.add_argument("--report-only", action="store_true", help="rewrite docs/quality.md")
    parser.add_argument(
        "--collect", action="store_true", help="read the results of the last run, run nothing"
    )
    parser.add_argument(
        "--recheck",
        action="store_true",
        help="run only the stored survivors again (the module's files must be unchanged)",
    )
    args = parser.parse_args(argv)
    if not (BIN / "mutmut").exists():
        parser.error(f"mutmut is not installed in {BIN.parent} (the test extra of pyproject.toml)")
    unknown = set(args.modules) - set(TARGETS)
    if unknown:
        parser.error(f"unknown modules: {', '.join(sorted(unknown))}")
    work_root = Path(
        os.environ.get("HOMEWARD_MUTATE_DIR", Path(tempfile.gettempdir()) / "homeward-mutate")
    )
    for key in [] if args.report_only else (args.modules or list(TARGETS)):
        print(f"mutating {key} …", flush=True)
        if args.recheck:
            with results_locked():
                previous = read_results()[key]
            result = recheck_target(key, work_root, args.children, previous)
        else:
            result = run_target(key, work_root, args.children, args.collect)
        reclassify({key: result})  # the equivalence rules as they are now
        with results_locked():  # another run may have stored its module meanwhile
            results = read_results()
            results[key] = result
            write_results(results)
        print(
            f"  {key}: {score(result):.0f} % caught, {len(result['survivors'])} survived",
            flush=True,
        )
    with results_locked():
        results = read_results()
        reclassify(results)
        write_results(results)
        write_quality(results)


if __name__ == "__main__":
    main()
