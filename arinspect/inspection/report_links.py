"""Linking an inspection report to the annotations made on its findings.

`link_report` rewrites ``report.html`` of a report folder (from its ``report.json`` and
the images already there) with, for each finding, the annotations on that part, each a
link to the annotation in the QA viewer (``VIEWER/?section=ID&annotation=GUID``); the
links are also kept in ``annotations.json`` beside the report.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from arinspect.atomic_write import write_atomic
from arinspect.errors import DataFormatError
from arinspect.inspection.report_html import AnnotationLink, report_html
from arinspect.jsonfile import read_json

OVERVIEW = "images/overview.jpg"


def viewer_url(server_url: str, section_id: str, annotation_id: str) -> str:
    """The QA viewer's address of one annotation."""
    query = urlencode({"section": section_id, "annotation": annotation_id})
    return f"{server_url.rstrip('/')}/?{query}"


def read_report_document(report_dir: Path) -> dict[str, Any]:
    """The ``report.json`` document of a report folder.

    Raises:
        DataFormatError: missing, not JSON, or without the parts list.
    """
    path = report_dir / "report.json"
    document = read_json(path, "cannot read the report (no report.json)")
    if not isinstance(document, dict) or not isinstance(document.get("parts"), list):
        raise DataFormatError(path, "not an inspection report (no 'parts' list)")
    return document


def link_report(
    report_dir: str | Path,
    annotations: Iterable[Mapping[str, Any]],
    server_url: str,
    section_id: str,
) -> dict[str, list[AnnotationLink]]:
    """Rewrite ``report.html`` with each finding's annotations; returns the links by part.

    Args:
        report_dir: Folder written by ``arinspect inspect`` (report.json and images).
        annotations: The section's annotations as the server lists them.
        server_url: Base URL of the sync server (the viewer is at its root).
        section_id: The section's id on the server.
    """
    report_dir = Path(report_dir)
    document = read_report_document(report_dir)
    part_ids = {part["id"] for part in document["parts"]}
    links: dict[str, list[AnnotationLink]] = {}
    for annotation in sorted(annotations, key=lambda a: a.get("created_at", "")):
        part_id = annotation.get("part_id")
        if part_id in part_ids:
            links.setdefault(part_id, []).append(AnnotationLink(
                title=annotation["title"], status=annotation["status"], kind=annotation["kind"],
                url=viewer_url(server_url, section_id, annotation["id"]),
            ))  # fmt: skip
    crops = {p.stem: f"crops/{p.name}" for p in sorted((report_dir / "crops").glob("*.jpg"))}
    overlays = [f"overlays/{p.name}" for p in sorted((report_dir / "overlays").glob("*.jpg"))]
    looks = {p.stem: f"looks/{p.name}" for p in sorted((report_dir / "looks").glob("*.jpg"))}
    page = report_html(document, OVERVIEW, crops, overlays, looks, links)
    stored = {part: [asdict(link) for link in items] for part, items in links.items()}
    write_atomic(report_dir / "annotations.json", json.dumps(stored, indent=2).encode())
    write_atomic(report_dir / "report.html", page.encode())
    return links
