"""``arinspect report link``: link an inspection report's findings to their annotations."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` verb."""
    parser = subparsers.add_parser("report", help="work on inspection reports")
    verbs = parser.add_subparsers(dest="report_command", required=True, metavar="SUBCOMMAND")
    link = verbs.add_parser(
        "link",
        help="list each finding's annotations (from the sync server) in report.html, "
        "linked to the QA viewer",
    )
    link.add_argument("report", type=Path, help="report folder (arinspect inspect --out)")
    link.add_argument("--server", required=True, help="sync server URL, e.g. http://host:8765")
    link.add_argument("--token", required=True, help="bearer token (arinspect token create)")
    link.add_argument(
        "--section-id", default=None,
        help="the section's id on the server (default: the report's section)",
    )  # fmt: skip
    link.set_defaults(func=link_cmd)


def link_cmd(args: argparse.Namespace) -> int:
    """Fetch the section's annotations and rewrite report.html with links."""
    import httpx

    from arinspect.errors import ConfigError
    from arinspect.inspection.report_links import link_report, read_report_document

    section_id = args.section_id or read_report_document(args.report)["section"]
    url = f"{args.server.rstrip('/')}/api/sections/{section_id}/annotations"
    try:
        answer = httpx.get(url, headers={"Authorization": f"Bearer {args.token}"}, timeout=30)
    except httpx.HTTPError as exc:
        raise ConfigError(f"cannot reach the sync server at {args.server}: {exc}") from exc
    if answer.status_code != 200:
        detail = answer.json().get("detail", answer.text) if answer.content else ""
        raise ConfigError(f"{url}: server answered {answer.status_code}: {detail}")
    links = link_report(args.report, answer.json(), args.server, section_id)
    count = sum(len(items) for items in links.values())
    print(f"{count} annotation(s) on {len(links)} part(s) of the report; "
          f"written {args.report / 'report.html'}")  # fmt: skip
    return 0
