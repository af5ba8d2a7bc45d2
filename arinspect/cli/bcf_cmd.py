"""``arinspect bcf import|export``: BCF exchange of a section's annotations in the sync DB."""

from __future__ import annotations

import argparse
import getpass
import socket
from pathlib import Path

from arinspect.cli.serve_cmd import add_db_option, db_url


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``bcf`` verb."""
    parser = subparsers.add_parser("bcf", help="import or export a section's annotations as BCF")
    verbs = parser.add_subparsers(dest="bcf_command", required=True, metavar="SUBCOMMAND")

    importing = verbs.add_parser(
        "import", help="import a BCF 2.1 or 3.0 archive into a section (idempotent)"
    )
    importing.add_argument("file", type=Path, help="the .bcf archive")
    add_db_option(importing)
    importing.add_argument("--section", required=True, help="section id")
    importing.set_defaults(func=import_cmd)

    exporting = verbs.add_parser("export", help="write a section's annotations as BCF 3.0")
    add_db_option(exporting)
    exporting.add_argument("--section", required=True, help="section id")
    exporting.add_argument("--out", required=True, type=Path, help="the .bcf file to write")
    exporting.set_defaults(func=export_cmd)


def _open(args: argparse.Namespace):  # noqa: ANN202
    from arinspect_server.db.engine import Database
    from arinspect_server.services.context import Actor

    db = Database(db_url(args.db))
    db.migrate()
    actor = Actor(user=f"cli:{getpass.getuser()}"[:64], role="engineer",
                  device=socket.gethostname()[:64])  # fmt: skip
    return db, actor


def import_cmd(args: argparse.Namespace) -> int:
    """Import an archive; prints what was created and skipped."""
    from arinspect.errors import DataFormatError
    from arinspect_server.services.bcf import import_archive

    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise DataFormatError(args.file, f"cannot read ({exc.strerror or exc})") from exc
    db, actor = _open(args)
    try:
        result = import_archive(db, actor, args.section, data, args.file.name)
    finally:
        db.dispose()
    summary = result.response["data"]
    state = "already imported (nothing changed)" if result.replayed else "imported"
    print(
        f"{args.file.name}: {state} into section {args.section}: "
        f"{len(summary['created'])} topic(s) created, {len(summary['skipped'])} skipped, "
        f"{summary['comments_added']} comment(s), {summary['snapshots_added']} snapshot(s)"
    )
    return 0


def export_cmd(args: argparse.Namespace) -> int:
    """Export a section to ``--out``, written atomically (temporary file, then rename)."""
    from arinspect.atomic_write import write_atomic
    from arinspect_server.services.bcf import export_section

    db, _ = _open(args)
    try:
        data = export_section(db, args.section)
    finally:
        db.dispose()
    write_atomic(args.out.resolve(), data)
    print(f"wrote {args.out} ({len(data)} bytes)")
    return 0
