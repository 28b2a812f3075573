"""The machine and software a run measured, so figures can be compared honestly."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from server.settings import ROOT

LIBRARIES = [
    "starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "jinja2",
    "babel",
    "tortoise-orm",
    "aiosqlite",
    "httpx",
]


def _proc_field(path: str, name: str) -> str:
    for line in Path(path).read_text().splitlines():
        key, _, value = line.partition(":")
        if key.strip() == name:
            return value.strip()
    return "unknown"


def _commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return f"{commit} (with uncommitted changes)" if git("status", "--porcelain") else commit


def _library(name: str) -> str:
    try:
        return f"{name} {version(name)}"
    except PackageNotFoundError:
        return f"{name} (not installed)"


def describe() -> list[tuple[str, str]]:
    memory_kib = int(_proc_field("/proc/meminfo", "MemTotal").split()[0])
    load = Path("/proc/loadavg").read_text().split()[:3]
    return [
        ("Date", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("CPUs (`nproc`)", str(len(os.sched_getaffinity(0)))),
        ("CPU model", _proc_field("/proc/cpuinfo", "model name")),
        ("Memory", f"{memory_kib / 1024**2:.1f} GiB"),
        ("Load average at start", " ".join(load)),
        ("System", platform.platform()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("Libraries", ", ".join(_library(name) for name in LIBRARIES)),
        ("Commit", _commit()),
    ]
