"""``arinspect export gltf``: a section as glTF 2.0 (GLB), coloured by inspection status.

Statuses come from ``--report`` (an inspection ``report.json``) or, without it, from the
latest inspection run stored in the sync server's database (``--db``); the database also
gives the section's annotations. The section id in the database is the section's
``name`` in ``section.json``.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import Any

from arinspect.errors import ArInspectError, ConfigError
from arinspect.exchange.inspection_status import PartStatuses


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``export`` verb."""
    parser = subparsers.add_parser("export", help="export a section to other tools' formats")
    verbs = parser.add_subparsers(dest="export_command", required=True, metavar="FORMAT")
    gltf = verbs.add_parser(
        "gltf",
        help="glTF 2.0 binary (GLB): parts coloured by status, annotations as nodes",
        description="Write a GLB of the section (y up; the root node turns the section's "
        "z-up frame, metres, into it), parts coloured by inspection status, annotations "
        "as nodes with their data in extras. Statuses from --report, else from the latest "
        "run in --db; annotations from --db. Parts without a status are not_inspected.",
    )
    gltf.add_argument("--section", type=Path, required=True, metavar="DIR", help="section folder")
    gltf.add_argument(
        "--db", default=None, metavar="URL",
        help="sync-server database (sqlite:///FILE, FILE or a postgresql+psycopg:// URL): "
        "the section's annotations and its latest run's statuses",
    )  # fmt: skip
    gltf.add_argument(
        "--report", type=Path, default=None, metavar="FILE", help="inspection report.json"
    )
    gltf.add_argument(
        "--out", type=Path, required=True, metavar="FILE.glb", help="GLB file to write"
    )
    gltf.set_defaults(func=gltf_cmd)


def gltf_cmd(args: argparse.Namespace) -> int:
    """Write the GLB and print what it holds."""
    from arinspect.atomic_write import write_atomic
    from arinspect.cad.section import load_section
    from arinspect.exchange.gltf import section_glb
    from arinspect.exchange.inspection_status import NOT_INSPECTED, read_report

    if args.out.suffix.lower() != ".glb":
        raise ConfigError(f"--out {args.out}: the file name must end in .glb")
    section = load_section(args.section)
    statuses, annotations = PartStatuses(), []
    if args.db:
        statuses, annotations = read_database(args.db, section.name, not args.report)
    if args.report:
        statuses = read_report(args.report)
    if statuses.section not in (None, section.name):
        source = args.report or f"run {statuses.run_id}"
        raise ArInspectError(
            f"{source}: the report is of section {statuses.section!r}, not {section.name!r}"
        )
    data = section_glb(
        section, statuses.statuses, annotations, offsets_mm=statuses.offsets_mm,
        run_id=statuses.run_id,
    )  # fmt: skip
    write_atomic(args.out, data)
    counts = Counter(statuses.statuses.get(p.id, NOT_INSPECTED) for p in section.parts)
    summary = ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))
    print(f"section {section.name}: {len(section.parts)} parts ({summary}),"
          f" {len(annotations)} annotation(s)")  # fmt: skip
    print(f"written to {args.out} ({len(data)} bytes)")
    return 0


def read_database(
    url: str, section_id: str, latest_run: bool = True
) -> tuple[PartStatuses, list[dict[str, Any]]]:
    """The latest run's statuses and the annotations of a section in the server's database.

    Args:
        url: Database URL or SQLite file path (as ``--db`` takes it).
        section_id: The section's id in the database (its ``section.json`` name).
        latest_run: Read the statuses of the section's latest run; else leave them empty.

    Returns:
        ``(PartStatuses, annotations)``; empty statuses when the section has no run.

    Raises:
        ArInspectError: the database cannot be read, or has no section `section_id`.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from arinspect.cli.serve_cmd import db_url
    from arinspect.exchange.inspection_status import statuses_from_report
    from arinspect_server.db.engine import Database
    from arinspect_server.errors import NotFoundError
    from arinspect_server.services.annotations import list_annotations
    from arinspect_server.services.files import get_run, list_runs

    url = db_url(url)
    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        raise ArInspectError(f"database {shown}: file not found")
    db = Database(url)
    try:
        runs = list_runs(db, section_id)
        statuses = PartStatuses()
        if runs and latest_run:
            run = get_run(db, runs[-1]["id"])
            statuses = statuses_from_report(run["report"], f"run {run['id']}", run_id=run["id"])
        return statuses, list_annotations(db, section_id)
    except NotFoundError as exc:
        raise ArInspectError(
            f"database {shown}: {exc} (the id is the name in section.json)"
        ) from exc
    except SQLAlchemyError as exc:
        message = str(exc.orig if getattr(exc, "orig", None) else exc).splitlines()[0]
        raise ArInspectError(f"database {shown}: cannot be read ({message})") from exc
    finally:
        db.dispose()
