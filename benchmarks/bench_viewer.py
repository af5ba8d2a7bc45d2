"""Benchmark: first render of the QA viewer in headless Chromium (SwiftShader WebGL).

A real server (``arinspect serve``, SQLite) holds a section of >= 50k triangles (the
sample block twice, side by side: 86 parts, 20 structure elements) with 200 annotation
pins and a run; the page is opened with the token already stored (as after sign-in)
and timed from navigation start to the first frame drawn with model, colours and pins
(``performance.now()`` on the page), with the page's own resource timings per stage.
Baseline in the same run: the same page on the single sample block with no pins.
Target (issue #8): <= 2 s. Run from the repository root (it reuses the test helpers):
PYTHONPATH=. python benchmarks/bench_viewer.py [--repeats N]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
from pathlib import Path

import numpy as np
from playwright.sync_api import sync_playwright

from arinspect.cad.section import Section, load_section
from arinspect.resources import SAMPLE_SECTION_DIR
from tests.server.live_server import ServerProcess
from tests.server.sync_factories import make_tokens
from tests.server.test_viewer_e2e import CHROMIUM, CHROMIUM_ARGS
from tests.server.viewer_seed import seed_viewer

STAGES = ("three.module.js", "three.core.js", "/model", "/annotations", "/findings")


def doubled(section: Section, gap_m: float = 1.0) -> Section:
    """The section and a copy shifted along x by its length plus ``gap_m`` (ids suffixed)."""
    xs = [e.T_section_part[0, 3] for e in section.elements()]
    T_shift = np.eye(4)
    T_shift[0, 3] = max(xs) - min(xs) + gap_m

    def copy(element):  # noqa: ANN001, ANN202
        return dataclasses.replace(
            element, id=f"{element.id}-B", T_section_part=T_shift @ element.T_section_part
        )

    return dataclasses.replace(
        section,
        name=f"{section.name}-x2",
        structure=section.structure + tuple(copy(s) for s in section.structure),
        parts=section.parts + tuple(copy(p) for p in section.parts),
    )


def time_first_render(browser, url: str, token: str, section_id: str) -> dict[str, float]:  # noqa: ANN001
    """Open the viewer with a stored token; milliseconds to the first full frame, per stage."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(f"sessionStorage.setItem('arinspect.token', '{token}')")
    page = context.new_page()
    page.goto(f"{url}/?section={section_id}")
    page.wait_for_selector("body[data-state=ready]", timeout=60_000)
    figures = page.evaluate(
        """(stages) => {
            const entries = performance.getEntriesByType('resource');
            const end = (s) => Math.max(0, ...entries.filter(e => e.name.includes(s))
                .map(e => e.responseEnd));
            return Object.assign({first_render: window.arinspectViewer.firstRenderMs,
                                  pins: window.arinspectViewer.scene.pins.size},
                Object.fromEntries(stages.map(s => [s, end(s)])));
        }""",
        list(STAGES),
    )
    context.close()
    return figures


def main() -> None:
    """Print first-render times for the big section and the baseline."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    sample = load_section(SAMPLE_SECTION_DIR)
    big = doubled(sample)
    triangles = sum(len(big.mesh(e).faces) for e in big.elements())
    with tempfile.TemporaryDirectory() as folder:
        db_url = f"sqlite:///{Path(folder) / 'sync.db'}"
        tokens = make_tokens(db_url)
        with ServerProcess(db_url) as server, sync_playwright() as playwright:
            base = seed_viewer(server.url, tokens, n_annotations=0, section=sample)
            seeded = seed_viewer(server.url, tokens, n_annotations=200, section=big)
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            time_first_render(browser, server.url, tokens["qa"], base.section_id)  # warm-up
            runs = {"baseline": [], "big": []}
            for _ in range(args.repeats):
                runs["baseline"].append(
                    time_first_render(browser, server.url, tokens["qa"], base.section_id)
                )
                runs["big"].append(
                    time_first_render(browser, server.url, tokens["qa"], seeded.section_id)
                )
            browser.close()
    print(f"section: {len(big.parts)} parts, {triangles} triangles, 200 pins; "
          f"repeats {args.repeats}; headless Chromium, SwiftShader")  # fmt: skip
    print(f"{'stage (ms after navigation start, median)':44s} {'baseline':>9s} {'big':>9s}")
    for stage in (*STAGES, "first_render"):
        b = statistics.median(r[stage] for r in runs["baseline"])
        g = statistics.median(r[stage] for r in runs["big"])
        print(f"{stage:44s} {b:9.0f} {g:9.0f}")
    ratio = statistics.median(r["first_render"] for r in runs["big"]) / statistics.median(
        r["first_render"] for r in runs["baseline"]
    )
    print(f"pins drawn: {runs['big'][0]['pins']}; first render big / baseline: {ratio:.2f}")
    print("target: first render <= 2000 ms")


if __name__ == "__main__":
    main()
