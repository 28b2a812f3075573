"""Protected records are queried in server/policy.py only (issue 14, item 1).

An AST scan of every module under server/: a query started on a protected
model (``SessionLog.filter(…)``, ``Appointment.get(…)``…) anywhere but in
the policy fails, unless the module is in the short allow-list below with
its reason. Views and services reach those records through the policy's
query builders and checks (``appointments_for``, ``logs_for``, ``row``…).
"""

from __future__ import annotations

import ast
from pathlib import Path

SERVER = Path(__file__).resolve().parent.parent / "server"

# Where each protected model is defined: a name imported from elsewhere
# (``server.errors.Conflict``) is not the model.
PROTECTED = {
    ("server.participants.models", "Participant"),
    ("server.participants.models", "ConsentRecord"),
    ("server.participants.models", "PlanGoal"),
    ("server.sessions.models", "SessionLog"),
    ("server.sessions.models", "SessionLogRevision"),
    ("server.appointments.models", "Appointment"),
    ("server.reviews.models", "ProgressReview"),
    ("server.family.models", "AppointmentResponse"),
    ("server.sync.models", "Conflict"),
    ("server.assessments.models", "NeedsAssessment"),
    ("server.assessments.models", "AcceptedGoal"),
    ("server.referrals.models", "Referral"),
    ("server.referrals.models", "ReferralWorker"),
}

# Every class method of a tortoise model that starts a query (reading, or
# changing rows chosen by a condition). ``create``, ``bulk_create`` and
# ``construct`` only add rows or build one in memory, and stay allowed.
QUERIES = {
    "all",
    "annotate",
    "bulk_update",
    "earliest",
    "exclude",
    "exists",
    "fetch_for_list",
    "filter",
    "first",
    "get",
    "get_or_create",
    "get_or_none",
    "in_bulk",
    "last",
    "latest",
    "raw",
    "select_for_update",
    "update_or_create",
}

ALLOWED = {
    "server/policy.py": "the one place that decides",
    "server/retention.py": "the retention run erases, as the system, every participant due",
    "server/cli.py": "`homeward invite --participant CODE` is the system operator's command",
}


def protected_names(tree: ast.Module) -> dict[str, str]:
    """Local name → model name, for every protected model the module imports."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                if (node.module, alias.name) in PROTECTED:
                    names[alias.asname or alias.name] = alias.name
    return names


def related_names() -> set[str]:
    """Names of the relations that lead to protected rows from any record
    (``participant.session_logs``, ``user.caseload``…), read from the models."""
    from tortoise.fields.relational import RelationalField

    found = set()
    for module, name in PROTECTED:
        model = getattr(__import__(module, fromlist=[name]), name)
        for field in model._meta.fields_map.values():
            if isinstance(field, RelationalField) and getattr(field, "related_name", None):
                found.add(field.related_name)
    return found


RELATED = related_names()
# Relation manager methods that run a query.
RELATED_QUERIES = {"all", "filter", "exclude", "first", "get", "get_or_none", "count", "exists"}


def direct_queries(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = protected_names(tree)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method, target = node.func.attr, node.func.value
        if method in QUERIES and isinstance(target, ast.Name) and target.id in names:
            found.append(f"{node.lineno}: {names[target.id]}.{method}")
        elif (
            method in RELATED_QUERIES
            and isinstance(target, ast.Attribute)
            and target.attr in RELATED
        ):
            found.append(f"{node.lineno}: .{target.attr}.{method}")
    return found


def modules() -> list[Path]:
    return sorted(p for p in SERVER.rglob("*.py") if "migrations" not in p.parts)


def test_only_the_policy_queries_protected_records() -> None:
    offenders = {}
    for path in modules():
        name = path.relative_to(SERVER.parent).as_posix()
        if name in ALLOWED:
            continue
        found = direct_queries(path)
        if found:
            offenders[name] = found
    assert offenders == {}, "query these through server/policy.py (or allow-list with a reason)"


def test_the_allow_list_is_short_and_still_needed() -> None:
    assert len(ALLOWED) <= 5
    for name in ALLOWED:
        if name == "server/policy.py":
            continue
        assert direct_queries(SERVER.parent / name), f"{name} no longer needs its entry"


def test_the_scan_sees_a_direct_query(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from server.sessions.models import SessionLog as Logs\n"
        "from server.errors import Conflict\n"
        "async def leak():\n"
        "    Conflict('not the model')\n"
        "    await participant.workers.all()\n"
        "    await user.caseload.all()\n"
        "    return await Logs.filter(notes__contains='x').first()\n",
        encoding="utf-8",
    )
    assert sorted(direct_queries(sample)) == ["6: .caseload.all", "7: SessionLog.filter"]


def test_every_query_starting_class_method_is_scanned() -> None:
    from tortoise.models import Model

    public = {
        name
        for name, value in vars(Model).items()
        if isinstance(value, classmethod) and not name.startswith("_")
    }
    # What is left must start no query: a new tortoise method lands here.
    assert public - QUERIES == {
        "bulk_create",
        "construct",
        "create",
        "describe",
        "get_table",
        "register_listener",
    }
