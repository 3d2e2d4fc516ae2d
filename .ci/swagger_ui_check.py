#!/usr/bin/env python3
"""Swagger UI works under its Content-Security-Policy, and "Try it out" works.

Opens <base>/docs in headless Chromium, waits until the operations are rendered,
then does what a new user does with the defaults the docs fill in: signs in through
`POST /api/v1/auth/login` (Try it out, Execute), gives the returned access token to
the Authorize dialog, and creates an article through `POST /api/v1/articles`,
expecting 201. Then it uploads a photo through `POST /api/v1/media`'s documented
multipart form, as a person does: chooses a JPEG for `file` (a demo rendition
fetched from the server, whose bytes are no asset's original), types a credit and a
caption, and expects 201 with that credit; the same file again must answer 200
with the same asset. Fails on any console error, page error or CSP violation. Meant
for a server seeded with the demo newsroom whose first admin is the README's (the
login example), with or without `DISPATCH_CORS_ORIGINS`.

    python3 .ci/swagger_ui_check.py http://127.0.0.1:8080

On failure it saves a screenshot of the page to $SCREENSHOT_DIR (default
/tmp/dispatch-ci-screenshots) and prints its path. Needs the `playwright` Python
package and a Chromium at /usr/bin/chromium (or $CHROMIUM); it never downloads a
browser (no `playwright install`).
"""

import json
import os
import sys
import tempfile
import time

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

# Collects `securitypolicyviolation` events, which are not always console errors.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(
    `${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
});
"""


def record_console(msg, problems: list[str]) -> None:
    """Every console error counts (the icon is served too)."""
    url = (msg.location or {}).get("url", "")
    if msg.type == "error":
        problems.append(f"console {msg.type}: {msg.text} ({url})")


# A demo photo's rendition: a real JPEG that no asset was uploaded as.
DEMO_RENDITION = "/media/5eed0005-0000-4000-8000-000000000001/w640.jpg"
UPLOAD_CREDIT = "Swagger UI check"
UPLOAD_CAPTION = "A demo rendition uploaded through the documented form"


# The operations tried, in order: a failure's screenshot shows the last one too.
tried: list[str] = []


def open_try_it_out(page, block_id: str):
    """Opens an operation and presses Try it out; returns the operation's block."""
    tried.append(block_id)
    block = page.locator(f"#{block_id}")
    block.locator(".opblock-summary").first.click()
    block.locator(".try-out__btn").click()
    return block


def execute(block) -> tuple[str, str]:
    """Presses Execute and returns the live response's status and body text. A
    response still shown from an earlier Execute is cleared first, so that the one
    read is the new one."""
    clear = block.locator("button.btn-clear")
    if clear.count():
        clear.click()
    responses = block.locator(".live-responses-table")
    responses.wait_for(state="detached", timeout=5_000)
    block.locator("button.execute").click()
    status_cell = responses.locator(".response .response-col_status")
    status_cell.wait_for(timeout=15_000)
    status = status_cell.inner_text().strip()
    body = responses.locator(".response-col_description pre").first.inner_text()
    return status, body


def execute_default(page, block_id: str) -> tuple[str, str]:
    """Opens an operation, presses Try it out and Execute with the body the docs
    fill in, and returns the live response's status and body text."""
    return execute(open_try_it_out(page, block_id))


def upload_photo(page, base: str, problems: list[str]) -> None:
    """Uploads a JPEG through uploadMedia's multipart form, then the same again."""
    rendition = page.request.get(f"{base}{DEMO_RENDITION}")
    if rendition.status != 200 or not rendition.body().startswith(b"\xff\xd8\xff"):
        problems.append(f"GET {DEMO_RENDITION} answered {rendition.status}, not a JPEG")
        return
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "harbour.jpg")
        with open(path, "wb") as f:
            f.write(rendition.body())
        block = open_try_it_out(page, "operations-Media-uploadMedia")
        # The body is a form or the raw image: choose the form where Swagger UI asks.
        content_type = block.locator(".opblock-section-request-body select.content-type")
        if content_type.count():
            content_type.select_option("multipart/form-data")
        form = block.locator(".opblock-section-request-body")
        form.locator('tr[data-property-name="file"] input[type="file"]').set_input_files(path)
        form.locator('tr[data-property-name="credit"] input[type="text"]').fill(UPLOAD_CREDIT)
        form.locator('tr[data-property-name="caption"] input[type="text"]').fill(UPLOAD_CAPTION)
        status, body = execute(block)
        if not status.startswith("201"):
            problems.append(f"uploadMedia with a JPEG in the form answered {status}: {body[:300]}")
            return
        asset = json.loads(body)
        if asset.get("credit") != UPLOAD_CREDIT or asset.get("caption") != UPLOAD_CAPTION:
            problems.append(f"uploadMedia kept credit {asset.get('credit')!r}, caption {asset.get('caption')!r}")
            return
        # The file input keeps its file: Execute again sends the same bytes.
        status, body = execute(block)
        if not status.startswith("200"):
            problems.append(f"uploadMedia with the same JPEG again answered {status}: {body[:300]}")
            return
        if json.loads(body).get("id") != asset["id"]:
            problems.append(f"the same JPEG again answered another asset: {body[:300]}")
            return
    print(f"Swagger UI uploaded photo {asset['id']} through the form (201), and again (200, the same)")


def authorize(page, token: str) -> None:
    """Gives `token` to the Authorize dialog, as a user pastes it."""
    page.locator(".auth-wrapper .btn.authorize").click()
    dialog = page.locator(".dialog-ux .modal-ux")
    dialog.locator("input").first.fill(token)
    dialog.locator(".auth-btn-wrapper button.authorize").click()
    dialog.locator(".auth-btn-wrapper button.btn-done").click()


def try_it_out(page, base: str, problems: list[str]) -> None:
    """Signs in, authorises and creates an article with the docs' defaults, then
    uploads a photo through the form."""
    status, body = execute_default(page, "operations-Auth-login")
    if not status.startswith("200"):
        problems.append(f"login with the default example answered {status}: {body[:300]}")
        return
    token = json.loads(body)["access_token"]
    authorize(page, token)
    status, body = execute_default(page, "operations-Articles-createArticle")
    if not status.startswith("201"):
        problems.append(f"createArticle with the default example answered {status}: {body[:300]}")
        return
    print(f"Swagger UI signed in, authorised and created article {json.loads(body)['slug']} (201)")
    upload_photo(page, base, problems)


def screenshot(page) -> None:
    """Saves the whole page and, the page being long, the last operation tried."""
    folder = os.environ.get("SCREENSHOT_DIR", "/tmp/dispatch-ci-screenshots")
    os.makedirs(folder, exist_ok=True)
    stem = os.path.join(folder, f"swagger-ui-{int(time.time())}")
    try:
        page.screenshot(path=f"{stem}.png", full_page=True)
        print(f"screenshot of the failing page: {stem}.png", file=sys.stderr)
        if tried:
            page.locator(f"#{tried[-1]}").screenshot(path=f"{stem}-{tried[-1]}.png", timeout=5_000)
            print(f"screenshot of {tried[-1]}: {stem}-{tried[-1]}.png", file=sys.stderr)
    except PlaywrightError as err:
        print(f"no screenshot ({err})", file=sys.stderr)


def main() -> int:
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} BASE_URL", file=sys.stderr)
        return 2
    base = sys.argv[1].rstrip("/")
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
            args=CHROMIUM_ARGS,
        )
        page = browser.new_page()
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", lambda msg: record_console(msg, problems))
        page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
        response = page.goto(f"{base}/docs", wait_until="load")
        if response is None or response.status != 200:
            problems.append(f"GET /docs answered {response.status if response else 'nothing'}")
        csp = (response.headers.get("content-security-policy") if response else None) or ""
        if "frame-ancestors 'none'" not in csp:
            problems.append(f"/docs has no frame-ancestors 'none' in its CSP: {csp!r}")
        try:
            page.get_by_text("/api/v1/articles", exact=True).first.wait_for(timeout=15_000)
            # Open one operation, so that its rendering (and its icons) run too.
            page.locator(".opblock-summary").first.click()
            page.locator(".opblock-body").first.wait_for(timeout=5_000)
            page.wait_for_timeout(500)
        except PlaywrightError as err:
            problems.append(f"the operations did not render: {err}")
        if not problems:
            try:
                try_it_out(page, base, problems)
            except (PlaywrightError, ValueError, KeyError) as err:
                problems.append(f"Try it out failed: {err}")
        problems += [f"CSP violation: {v}" for v in page.evaluate("window.__cspViolations || []")]
        if problems:
            screenshot(page)
        browser.close()
    if problems:
        print("Swagger UI check failed:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"Swagger UI at {base}/docs renders and works with no console error or CSP violation")
    return 0


if __name__ == "__main__":
    sys.exit(main())
