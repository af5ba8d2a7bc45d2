"""The HTML inspection report page, built from the ``report.json`` document alone.

Images are referenced by their paths relative to the report folder. When annotations
are known (``arinspect report link``), each finding lists the annotations made on its
part, each linking to that annotation in the QA viewer.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

STATUS_BGR = {
    "present": (60, 170, 40),
    "missing": (40, 40, 230),
    "misplaced": (0, 170, 255),
    "not_verified": (150, 150, 150),
    "unexpected": (220, 90, 200),
}
FINDING_ORDER = ("missing", "misplaced", "not_verified", "present")


@dataclass(frozen=True)
class AnnotationLink:
    """An annotation on a part, as the report shows it: title, status and viewer URL."""

    title: str
    status: str
    kind: str
    url: str


def report_html(
    document: dict,
    overview: str,
    crops: Mapping[str, str],
    overlays: Sequence[str],
    looks: Mapping[str, str],
    links: Mapping[str, Sequence[AnnotationLink]] | None = None,
) -> str:
    """The report page (inline CSS, images by relative path).

    Args:
        document: The ``report.json`` document.
        overview: Path of the overview image.
        crops: Path of each finding's crop, by part id.
        overlays: Paths of the full-frame overlays (named by `overlay_file_name`).
        looks: Path of the suggested view of each part not verified, by part id.
        links: Annotations per part id; None when the report was not linked (no column).
    """
    e = html.escape
    counts = document["counts"]
    summary = " · ".join(f"{k}: {v}" for k, v in counts.items())
    rows = []
    order = {s: i for i, s in enumerate(FINDING_ORDER)}
    for part in sorted(document["parts"], key=lambda p: (order[p["status"]], p["id"])):
        colour = "#{2:02x}{1:02x}{0:02x}".format(*STATUS_BGR[part["status"]])
        crop = crops.get(part["id"])
        image = f'<img src="{e(crop)}" alt="{e(part["id"])}">' if crop else ""
        image += _suggested_view(part, looks.get(part["id"]))
        offset = (
            ""
            if part["offset_mm"] is None
            else f"{part['offset_mm']:.0f} ± {part['offset_sigma_mm']:.0f}"
        )
        annotations = "" if links is None else f"<td>{_links_cell(links.get(part['id'], ()))}</td>"
        rows.append(
            f'<tr id="part-{e(part["id"])}"><td>{e(part["id"])}</td><td>{e(part["class"])}</td>'
            f'<td style="color:{colour};font-weight:bold">{e(part["status"])}</td>'
            f"<td>{offset}</td><td>{part['confidence']:.2f}</td><td>{part['frames_seen']}</td>"
            f"<td>{_frame_label(document, part.get('best_pass', 0), part['best_frame'])}</td>"
            f"<td>{e(part['reason'])}</td><td>{image}</td>{annotations}</tr>"
        )
    unexpected = (
        "".join(
            f"<li>{e(u['class'])} near {u['position_section_m']} m (section frame),"
            f" {u['frames_seen']} frames, best frame"
            f" {_frame_label(document, u.get('best_pass', 0), u['best_frame'])}</li>"
            for u in document["unexpected"]
        )
        or "<li>none</li>"
    )
    overlay_html = "".join(
        f'<figure><img src="{e(path)}" alt="{e(caption)}"><figcaption>{e(caption)}'
        "</figcaption></figure>"
        for path in overlays
        for caption in [_overlay_caption(document, path)]
    )
    passes = _passes(document)
    recordings = (
        f"Recording <code>{e(passes[0])}</code>"
        if len(passes) == 1
        else f"{len(passes)} passes ("
        + ", ".join(f"{k + 1}: <code>{e(path)}</code>" for k, path in enumerate(passes))
        + ")"
    )
    annotations_header = "" if links is None else "<th>annotations</th>"
    timing = document["timing"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Inspection of {e(document["section"])}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; }} td, th {{ border-bottom: 1px solid #ddd; padding: 4px 8px; }}
td img {{ max-height: 160px; }} figure {{ display: inline-block; margin: 0 1em 1em 0; }}
figure img {{ max-width: 480px; }} td ul {{ margin: 0; padding-left: 1.2em; }}
</style></head><body>
<h1>Inspection of section {e(document["section"])}</h1>
<p>{e(summary)}</p>
<p>{recordings}, {document["frames"]["total"]} frames,
{timing["frames_per_s"]:.1f} frames/s; detector <code>{e(document["detector"])}</code>;
{e(document["tool"])}, {e(document["created_utc"])}.</p>
<h2>Overview</h2>
<p>Green present, red missing, amber misplaced (arrow: measured offset), grey not verified.</p>
<img src="{e(overview)}" alt="section overview" style="max-width:960px">
<h2>Findings</h2>
<table><tr><th>part</th><th>class</th><th>status</th><th>offset mm</th><th>confidence</th>
<th>frames</th><th>best frame</th><th>why</th><th>best view</th>{annotations_header}</tr>
{"".join(rows)}
</table>
<h2>Unexpected objects</h2><ul>{unexpected}</ul>
<h2>Frames</h2>{overlay_html}
</body></html>
"""


def _suggested_view(part: dict, path: str | None) -> str:
    """Where to look at a part not verified from: the rendered view and the eye position."""
    view = part.get("suggested_view")
    if view is None:
        return ""
    x, y, z = view["eye_section_m"]
    where = (
        f"look from ({x:.2f}, {y:.2f}, {z:.2f}) m (section frame), {view['distance_m']:.1f} m"
        " away:"
        f" {view['visible_ratio']:.0%} in view"
    )
    image = f'<img src="{html.escape(path)}" alt="suggested view">' if path else ""
    return f"<figure>{image}<figcaption>{html.escape(where)}</figcaption></figure>"


def _links_cell(links: Sequence[AnnotationLink]) -> str:
    e = html.escape
    if not links:
        return ""
    items = "".join(
        f'<li><a href="{e(link.url)}">{e(link.title)}</a> ({e(link.kind)}, {e(link.status)})</li>'
        for link in links
    )
    return f"<ul>{items}</ul>"


def overlay_file_name(frame: tuple[int, int]) -> str:
    """File name of the overlay of a frame (pass index, frame id).

    ``frame_000012.jpg`` in the first pass, ``pass2_frame_000012.jpg`` in the second.
    """
    pass_index, im_id = frame
    name = f"frame_{im_id:06d}.jpg"
    return name if pass_index == 0 else f"pass{pass_index + 1}_{name}"


def _overlay_caption(document: dict, path: str) -> str:
    """The caption of an overlay, from its file name (`overlay_file_name`)."""
    head, _, im_id = PurePosixPath(path).stem.rpartition("frame_")
    pass_index = int(head.removeprefix("pass").rstrip("_")) - 1 if head else 0
    return "frame " + _frame_label(document, pass_index, int(im_id))


def _passes(document: dict) -> list[str]:
    """The recordings a report inspected (reports before passes name one)."""
    return document.get("passes") or [document["recording"]]


def _frame_label(document: dict, pass_index: int, im_id: int | None) -> str:
    """A frame as the page names it: its id, and its pass when there are several."""
    if im_id is None:
        return ""
    return str(im_id) if len(_passes(document)) == 1 else f"{im_id} (pass {pass_index + 1})"
