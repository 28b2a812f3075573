"""The ``homeward`` command."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from tortoise import Tortoise

from server import db
from server.enums import Country
from server.settings import LANGUAGES, Settings, secure_data_dir


async def _with_db(settings: Settings, work: Callable[[], Awaitable[Any]]) -> Any:
    from server.audit import keys as audit_keys

    audit_keys.install(audit_keys.load(settings))
    await Tortoise.init(config=db.tortoise_config(settings.database_url))
    try:
        return await work()
    finally:
        await Tortoise.close_connections()


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    uvicorn.run(
        "server.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        proxy_headers=True,
        # Only the proxy's X-Forwarded-For is believed (docs/deploy.md).
        forwarded_allow_ips=settings.forwarded_allow_ips,
        # uvicorn's own access log writes concrete paths, tokens included
        # (/enrol/<token>); our JSON access log records route templates only.
        access_log=False,
        server_header=False,
        log_level="info",
    )
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from server.audit.services import upgrade
    from server.sync.keys import KeyRing

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(db.migrate(settings.database_url))
    # Create the sealing key here, once, rather than racing to create it in
    # several app servers starting at the same moment.
    KeyRing.load(settings.data_dir / "sync-keys")
    print("Database is up to date.")
    # A trail from before keyed MACs is sealed with the audit key, once.
    sealed = asyncio.run(_with_db(settings, upgrade))
    if sealed:
        print(f"Audit trail sealed with the audit key ({sealed} earlier events).")
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from server.demo_links import demo_links

    cmd_migrate(args, settings)

    async def work() -> list[tuple[str, str]]:
        from server import demo

        loaded = await demo.load()
        print("Demo world loaded." if loaded else "Demo world already present.")
        return await demo_links(settings)

    links = asyncio.run(_with_db(settings, work))
    print("\nSign in: open one of these one-time links in Chromium, Chrome, Edge, Safari or")
    print(
        f"Firefox and create a passkey (valid {settings.invitation_hours} hours;"
        " run `homeward demo` again for new ones):\n"
    )
    for who, link in links:
        print(f"  {who:<40} {link}")
    print(f"\nAfterwards, sign in at {settings.origin}/signin with that passkey.\n")
    if args.serve:
        return cmd_serve(args, settings)
    return 0


def cmd_invite(args: argparse.Namespace, settings: Settings) -> int:
    from server.accounts import invitations
    from server.audit.services import SYSTEM
    from server.enums import Role
    from server.errors import AppError
    from server.orgs.models import Organisation
    from server.participants.models import Participant

    async def work() -> str:
        organisation = await Organisation.get_or_none(id=args.organisation)
        if organisation is None:
            raise SystemExit(f"No organisation with id {args.organisation}.")
        participant = None
        if args.participant:
            participant = await Participant.get_or_none(code=args.participant)
            if participant is None:
                raise SystemExit(f"No participant with code {args.participant}.")
        issued = await invitations.issue(
            actor=SYSTEM,
            organisation=organisation,
            role=Role(args.role),
            name=args.name,
            language=args.language or organisation.default_language,
            valid_hours=settings.invitation_hours,
            participant=participant,
        )
        return issued.link(settings.origin)

    try:
        print(asyncio.run(_with_db(settings, work)))
    except AppError as error:
        print(f"Not created: {error.message}", file=sys.stderr)
        return 2
    return 0


def cmd_messages(args: argparse.Namespace, settings: Settings) -> int:
    from server import catalogues

    if args.action == "extract":
        catalogues.extract()
    elif args.action == "update":
        catalogues.extract()
        catalogues.update()
    problems = catalogues.check()
    if problems.stale_template:
        print("locales/messages.pot is stale: run `homeward messages update`.")
    for language, missing in problems.untranslated.items():
        if missing:
            print(f"{language}: {len(missing)} untranslated or fuzzy, e.g. {missing[0]!r}")
    return 0 if problems.ok else 1


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    from server.audit.verification import Anchor, current_anchor, verify

    if args.action == "anchor":
        anchor, broken = asyncio.run(_with_db(settings, current_anchor))
        if anchor is not None:
            print(anchor.dumps())
            return 0
    else:
        kept = None
        if args.anchor is not None:
            try:
                kept = Anchor.loads(args.anchor.read_text())
            except (OSError, ValueError) as error:
                print(f"Cannot read the anchor {args.anchor}: {error}", file=sys.stderr)
                return 2
        broken = asyncio.run(_with_db(settings, lambda: verify(kept)))
        if broken is None:
            print("Audit chain intact." if kept is None else "Audit chain intact up to the anchor.")
            return 0
    print(f"Audit chain broken at event {broken.position}: {broken.reason}.")
    return 1


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from server.ops.backup import BackupError, backup

    try:
        copied = backup(settings, args.path)
    except BackupError as error:
        print(error, file=sys.stderr)
        return 2
    print(f"Backed up {sum(copied.tables.values())} rows and {len(copied.files)} key files")
    print(f"to {copied.archive}. Keep it as safe as the server: it holds everything.")
    for note in copied.notes:
        print(note)
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from server.ops.backup import BackupError, restore

    try:
        copied = restore(settings, args.path, force=args.force)
    except BackupError as error:
        print(error, file=sys.stderr)
        return 2
    print(f"Restored {sum(copied.tables.values())} rows and {len(copied.files)} key files.")
    for note in copied.notes:
        print(note)
    print("Run `homeward audit verify`, then start the app servers.")
    return 0


def cmd_retention(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from server import retention

    async def work() -> None:
        now = datetime.now(UTC)
        if args.dry_run:
            items = await retention.due(today=now.date())
            for item in items:
                print(f"would anonymise {item.code} ({item.reason} on {item.since.isoformat()})")
        else:
            done = await retention.run(today=now.date(), now=now)
            items = [item for item, _ in done]
            for item, touched in done:
                print(f"anonymised {item.code} ({item.reason} on {item.since.isoformat()})")
                print(f"  {touched} records anonymised")
        if not items:
            print("Nothing is due.")

    asyncio.run(_with_db(settings, work))
    return 0


def cmd_reminders(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from server import i18n
    from server.family import reminders, vapid

    pusher = reminders.Pusher(
        key=vapid.load(settings.data_dir),
        subject=f"https://{settings.rp_id}",
        catalogues=i18n.load_catalogues(settings.locales_dir),
    )
    done = asyncio.run(
        _with_db(settings, lambda: reminders.run(now=datetime.now(UTC), pusher=pusher))
    )
    print(
        f"Reminders sent: {done.sent}; to try again: {done.failed}; phones gone: {done.removed}; "
        f"past reminders forgotten: {done.forgotten}."
    )
    for error in done.errors:
        print(f"  not sent: {error}", file=sys.stderr)
    return 0


def cmd_org(args: argparse.Namespace, settings: Settings) -> int:
    from server.audit.services import SYSTEM
    from server.enums import Country
    from server.errors import AppError
    from server.orgs import services

    if args.action == "list":
        found = asyncio.run(_with_db(settings, services.every_organisation))
        for org in found:
            language, zone = org.default_language, org.time_zone
            print(f"{org.id:>5}  {org.country.value}  {language:<3} {zone:<16} {org.name}")
        if not found:
            print("No organisation yet: `homeward org create --help`.")
        return 0

    async def work() -> services.Started:
        return await services.start(
            name=args.name,
            country=Country(args.country),
            language=args.language,
            time_zone=args.time_zone,
            admin_name=args.admin_name,
            valid_hours=settings.invitation_hours,
            actor=SYSTEM,
            is_programme=args.programme,
        )

    try:
        started = asyncio.run(_with_db(settings, work))
    except AppError as error:
        print(f"Not created: {error.message}", file=sys.stderr)
        return 2
    print(f"Organisation {started.organisation.id} created: {started.organisation.name}")
    print(
        f"First administrator ({args.admin_name}): open this one-time link within"
        f" {settings.invitation_hours} hours and create a passkey:"
    )
    print(f"  {started.invitation.link(settings.origin)}")
    return 0


def cmd_coordinator(args: argparse.Namespace, settings: Settings) -> int:
    from server.audit.services import SYSTEM
    from server.errors import AppError
    from server.orgs.models import Organisation
    from server.programme import coordinators

    countries = coordinators.parse_countries(args.countries)

    async def work() -> str:
        organisation = await Organisation.get_or_none(id=args.organisation)
        if organisation is None:
            raise SystemExit(f"No organisation with id {args.organisation}.")
        issued = await coordinators.invite(
            actor=SYSTEM,
            organisation=organisation,
            name=args.name,
            language=args.language or organisation.default_language,
            countries=countries,
            valid_hours=settings.invitation_hours,
        )
        return issued.link(settings.origin)

    try:
        print(asyncio.run(_with_db(settings, work)))
    except AppError as error:
        print(f"Not created: {error.message}", file=sys.stderr)
        return 2
    return 0


def cmd_programme(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from server.audit.services import SYSTEM
    from server.programme import period, services

    now = datetime.now(UTC)
    quarter = period.last_ended(now)

    async def work() -> int:
        return await services.count_ahead(quarter=quarter, actor=SYSTEM, now=now)

    counted = asyncio.run(_with_db(settings, work))
    print(f"{quarter.key}: counted for {counted} set(s) of countries.")
    return 0


def cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    from server.sync.keys import generate, key_files

    folder = settings.data_dir / "sync-keys"
    if args.action == "rotate":
        key = generate(folder)
        print(f"New current sealing key {key.kid} in {folder}.")
        print("Copy the folder to every app server and restart them; keep the old keys")
        print('(docs/sync.md, "Key rotation" says when one may go). Then take a backup.')
        return 0
    for item in key_files(folder):
        mark = "current" if item.current else "old    "
        print(f"{mark}  {item.kid}  {item.made_at:%Y-%m-%d %H:%M} UTC  {item.path.name}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from server.ops import check

    return check.main()


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="homeward", description="Homeward: offline-first app for reintegration partners."
    )
    sub = top.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the web server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(func=cmd_migrate)

    demo = sub.add_parser("demo", help="load the demo world and print sign-in links")
    demo.add_argument("--serve", action="store_true", help="then run the web server")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.set_defaults(func=cmd_demo)

    invite = sub.add_parser("invite", help="print a one-time enrolment link")
    invite.add_argument("--organisation", type=int, required=True, help="organisation id")
    invite.add_argument("--role", choices=["admin", "officer", "worker", "family"], required=True)
    invite.add_argument("--name", required=True, help="the person's name")
    invite.add_argument("--language", choices=LANGUAGES, help="default: the organisation's")
    invite.add_argument("--participant", help="participant code (family members)")
    invite.set_defaults(func=cmd_invite)

    messages = sub.add_parser("messages", help="extract, update or check translations")
    messages.add_argument("action", choices=["extract", "update", "check"])
    messages.set_defaults(func=cmd_messages)

    retention = sub.add_parser("retention", help="anonymise what is kept longer than needed")
    retention.add_argument("action", choices=["run"])
    retention.add_argument("--dry-run", action="store_true", help="only say what is due")
    retention.set_defaults(func=cmd_retention)

    reminders = sub.add_parser("reminders", help="push the family reminders that are due")
    reminders.add_argument("action", choices=["run"], help="safe every few minutes (cron, timer)")
    reminders.set_defaults(func=cmd_reminders)

    audit = sub.add_parser("audit", help="verify the audit trail, or print its head")
    audit.add_argument(
        "action",
        choices=["verify", "anchor"],
        help="verify: check the chain (non-zero at the first break); "
        "anchor: print the head (length and MAC) to keep somewhere else",
    )
    audit.add_argument(
        "--anchor", type=Path, help="with verify: a file made by `homeward audit anchor`"
    )
    audit.set_defaults(func=cmd_audit)

    org = sub.add_parser("org", help="create an organisation (and invite its admin), or list them")
    org_sub = org.add_subparsers(dest="action", required=True)
    org_create = org_sub.add_parser("create", help="print the first admin's invitation link")
    org_create.add_argument("--name", required=True, help="the organisation's name")
    org_create.add_argument("--country", required=True, choices=[c.value for c in Country])
    org_create.add_argument("--language", required=True, choices=LANGUAGES, help="default language")
    org_create.add_argument("--time-zone", required=True, help="e.g. Asia/Almaty, Africa/Tunis")
    org_create.add_argument(
        "--admin-name", default="Administrator", help="the first admin's name (shown to others)"
    )
    org_create.add_argument(
        "--programme",
        action="store_true",
        help="the programme's own organisation (its admins invite coordinators)",
    )
    org_sub.add_parser("list", help="every organisation with its id")
    org.set_defaults(func=cmd_org)

    coordinator = sub.add_parser("coordinator", help="invite a programme coordinator")
    coordinator_sub = coordinator.add_subparsers(dest="action", required=True)
    coordinator_create = coordinator_sub.add_parser("create", help="print the enrolment link")
    coordinator_create.add_argument(
        "--organisation", type=int, required=True, help="the programme organisation's id"
    )
    coordinator_create.add_argument("--name", required=True, help="the person's name")
    coordinator_create.add_argument(
        "--countries", required=True, help="the countries they see, e.g. KZ or KZ,TN,UG"
    )
    coordinator_create.add_argument(
        "--language", choices=LANGUAGES, help="default: the organisation's"
    )
    coordinator.set_defaults(func=cmd_coordinator)

    programme = sub.add_parser(
        "programme", help="count the last quarter for the coordinators (run nightly)"
    )
    programme.add_argument("action", choices=["refresh"])
    programme.set_defaults(func=cmd_programme)

    keys = sub.add_parser("keys", help="rotate or list the sync sealing keys")
    keys.add_argument(
        "action",
        choices=["rotate", "list"],
        help="rotate: a new current key, the old ones kept; list: every key, oldest first",
    )
    keys.set_defaults(func=cmd_keys)

    backup = sub.add_parser(
        "backup",
        help="write the database and the keys into one archive (servers may keep running)",
        description="Write the database (SQLite's online backup, or pg_dump on PostgreSQL) "
        "and the data directory's key files into one archive, mode 0600, with a manifest "
        "of checksums. docs/operations.md, 'Backups'.",
    )
    backup.add_argument(
        "path", type=Path, help="a new file, or a folder to put homeward-<time>.tar in"
    )
    backup.set_defaults(func=cmd_backup)

    restore = sub.add_parser(
        "restore",
        help="put a backup back (stop the servers first)",
        description="Check the archive's checksums, then replace the database in one step "
        "(pg_restore --single-transaction on PostgreSQL; a missing database is created) "
        "and put the key files back, keys already there moved aside. Refuses an archive "
        "of the other kind of database, and a database holding data unless --force.",
    )
    restore.add_argument("path", type=Path, help="an archive made by `homeward backup`")
    restore.add_argument("--force", action="store_true", help="replace a database that holds data")
    restore.set_defaults(func=cmd_restore)
    check = sub.add_parser("check", help="report what a production set-up gets wrong")
    check.set_defaults(func=cmd_check)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "check":
        # It only looks: making settings or securing the data directory here
        # would create the files and fix the modes it is there to report on.
        return cmd_check(args)
    settings = Settings.from_env()
    secure_data_dir(settings.data_dir)
    code: int = args.func(args, settings)
    return code


if __name__ == "__main__":
    sys.exit(main())
