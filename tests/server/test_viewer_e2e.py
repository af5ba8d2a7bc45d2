"""The QA viewer end to end in headless Chromium (Debian package) driven by Playwright.

A real ``arinspect serve`` process on loopback with SQLite; two browsers: a QA reviewer
who changes a status and a worker who must see the change arrive live.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator

import httpx
import pytest

from arinspect_server.routes.viewer import THREE_DIR
from tests.server.live_server import ServerProcess
from tests.server.sync_factories import make_tokens
from tests.server.viewer_seed import Seeded, seed_viewer

sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-quic", "--enable-unsafe-swiftshader",
]  # fmt: skip

pytestmark = pytest.mark.skipif(
    not shutil.which("chromium") or not (THREE_DIR / "build" / "three.module.js").is_file(),
    reason="needs the Debian chromium package and three.js (npm ci; scripts/install.sh dev)",
)


@pytest.fixture(scope="module")
def viewer_server(tmp_path_factory) -> Iterator[tuple[str, dict[str, str], Seeded]]:
    db_url = f"sqlite:///{tmp_path_factory.mktemp('viewer') / 'sync.db'}"
    tokens = make_tokens(db_url)
    with ServerProcess(db_url) as server:
        yield server.url, tokens, seed_viewer(server.url, tokens)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def sign_in(browser, url: str, token: str):  # noqa: ANN001, ANN201
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url + "/")
    page.fill("#token", token)
    page.click("#sign-in button[type=submit]")
    page.wait_for_selector("body[data-state=ready]", timeout=30_000)
    page.wait_for_selector("body[data-stream=live]", timeout=30_000)
    assert errors == []
    return page


def test_bad_token_is_refused_with_a_message(viewer_server, browser) -> None:
    url, _tokens, _seeded = viewer_server
    page = browser.new_context().new_page()
    page.goto(url + "/")
    page.fill("#token", "not-a-token")
    page.click("#sign-in button[type=submit]")
    page.wait_for_selector("#message:not([hidden])")
    assert "token" in page.inner_text("#message").lower()
    assert page.get_attribute("body", "data-state") == "signed-out"
    page.context.close()


def test_qa_sees_pins_and_statuses_and_a_status_change_reaches_a_second_browser(
    viewer_server, browser
) -> None:
    url, tokens, seeded = viewer_server
    qa = sign_in(browser, url, tokens["qa"])
    worker = sign_in(browser, url, tokens["worker"])

    # Every annotation has a pin at its anchor; parts carry the newest run's statuses.
    assert qa.evaluate("window.arinspectViewer.scene.pins.size") == len(seeded.annotations)
    parts = qa.evaluate("""() => Object.fromEntries([...window.arinspectViewer.scene.parts]
        .map(([id, p]) => [id, [p.status, p.materials[0].color.getHexString()]]))""")
    assert set(parts) == set(seeded.part_class)
    first, second, third = list(seeded.part_class)[:3]
    assert parts[first] == ["missing", "e53935"]
    assert parts[second] == ["misplaced", "fb8c00"]
    assert parts[third] == ["present", "43a047"]
    assert qa.locator("#annotations li").count() == len(seeded.annotations)

    # Filters: status, class and assignee narrow the list and hide the other pins.
    resolved = [a for a in seeded.annotations.values() if a["status"] == "resolved"]
    qa.select_option("#filter-status", "resolved")
    assert qa.locator("#annotations li").count() == len(resolved)
    visible = qa.evaluate(
        "[...window.arinspectViewer.scene.pins.values()].filter(p => p.visible).length"
    )
    assert visible == len(resolved)
    qa.select_option("#filter-status", "")
    qa.select_option("#filter-assignee", "wanda")
    wanda = [a for a in seeded.annotations.values() if a["assignee"] == "wanda"]
    assert qa.locator("#annotations li").count() == len(wanda)
    qa.select_option("#filter-assignee", "")
    cls = seeded.part_class[first]
    qa.select_option("#filter-class", cls)
    of_class = [a for a in seeded.annotations.values() if seeded.part_class[a["part_id"]] == cls]
    assert qa.locator("#annotations li").count() == len(of_class)
    qa.select_option("#filter-class", "")

    # Clicking the first annotation's pin in the 3-D view opens its detail with media.
    target = next(iter(seeded.annotations.values()))
    xy = qa.evaluate(f"window.arinspectViewer.scene.pinScreenPosition('{target['id']}')")
    box = qa.locator("#canvas").bounding_box()
    qa.mouse.click(box["x"] + xy["x"], box["y"] + xy["y"])
    qa.wait_for_selector("#detail:not([hidden]) h3")
    assert qa.inner_text("#detail h3") == target["title"]
    qa.wait_for_function("document.querySelector('#detail img')?.naturalWidth === 64")
    assert qa.locator("#detail audio").count() == 1
    assert "annotation created" in qa.inner_text("#detail table.history")

    # QA verifies a resolved annotation; the worker's browser shows it without reloading.
    chosen = resolved[0]
    qa.click(f"#annotations li[data-id='{chosen['id']}']")
    qa.wait_for_selector("#detail button[data-status=verified]")
    assert qa.locator("#detail button[data-status=rejected]").count() == 1
    qa.click("#detail button[data-status=verified]")
    item = f"#annotations li[data-id='{chosen['id']}'] .badge"
    worker.wait_for_function(
        f"document.querySelector(\"{item}\")?.textContent === 'verified'", timeout=30_000
    )
    qa.wait_for_function(f"document.querySelector(\"{item}\")?.textContent === 'verified'")
    with httpx.Client(base_url=url) as http:
        stored = http.get(
            f"/api/sections/{seeded.section_id}/annotations/{chosen['id']}",
            headers={"Authorization": f"Bearer {tokens['qa']}"},
        ).json()
    assert stored["status"] == "verified" and stored["modified_by"] == "quinn"

    # QA assigns it and comments; the worker, looking at the same annotation, sees both.
    worker.click(f"#annotations li[data-id='{chosen['id']}']")
    worker.wait_for_selector(f"#detail:not([hidden])[data-id='{chosen['id']}'] h3")
    qa.fill("#detail form.assign input[name=assignee]", "wanda")
    qa.click("#detail form.assign button")
    qa.wait_for_function(
        f"window.arinspectViewer.annotations.get('{chosen['id']}').assignee === 'wanda'"
    )
    qa.wait_for_function("document.querySelector('#detail table')?.textContent.includes('wanda')")
    # The comment comes from QA's account through the API (as from another of QA's devices):
    # both open panels must show it live.
    with httpx.Client(base_url=url) as http:
        http.post(
            f"/api/sections/{seeded.section_id}/annotations/{chosen['id']}/comments",
            headers={"Authorization": f"Bearer {tokens['qa']}"},
            json={"op_id": str(uuid.uuid4()), "text": "checked on site, weld OK"},
        ).raise_for_status()
    for page in (worker, qa):
        page.wait_for_function(
            "document.querySelector('#detail ul.comments')?.textContent.includes('weld OK')",
            timeout=30_000,
        )
    worker.wait_for_function(
        f"document.querySelector(\"#annotations li[data-id='{chosen['id']}'] small\")"
        "?.textContent.includes('wanda')",
        timeout=30_000,
    )
    with httpx.Client(base_url=url) as http:
        headers = {"Authorization": f"Bearer {tokens['qa']}"}
        base = f"/api/sections/{seeded.section_id}/annotations/{chosen['id']}"
        stored = http.get(base, headers=headers).json()
        comments = http.get(f"{base}/comments", headers=headers).json()
    assert stored["assignee"] == "wanda" and stored["status"] == "verified"
    assert [(c["author"], c["text"]) for c in comments] == [("quinn", "checked on site, weld OK")]

    # The worker may not verify: the workflow offers no such button to that role.
    worker.click(f"#annotations li[data-id='{resolved[-1]['id']}']")
    # The panel already shows another annotation: wait until it shows this one.
    worker.wait_for_selector(f"#detail:not([hidden])[data-id='{resolved[-1]['id']}'] h3")
    assert worker.locator("#detail button[data-status=verified]").count() == 0
    assert worker.locator("#detail button[data-status=in_progress]").count() == 1
    qa.context.close()
    worker.context.close()


def test_a_report_link_opens_its_annotation(viewer_server, browser) -> None:
    url, tokens, seeded = viewer_server
    target = list(seeded.annotations.values())[2]
    context = browser.new_context()
    context.add_init_script(f"sessionStorage.setItem('arinspect.token', '{tokens['qa']}')")
    page = context.new_page()
    page.goto(f"{url}/?section={seeded.section_id}&annotation={target['id']}")
    page.wait_for_selector("#detail:not([hidden]) h3")
    assert page.inner_text("#detail h3") == target["title"]
    assert page.get_attribute(f"#annotations li[data-id='{target['id']}']", "class") == "selected"
    page.goto(f"{url}/?section={seeded.section_id}&annotation=not-there")
    page.wait_for_selector("#message:not([hidden])")
    assert "not-there is not in section" in page.inner_text("#message")
    context.close()
