#!/usr/bin/env python3
"""Swagger UI works under its Content-Security-Policy, and "Try it out" works.

Opens <base>/docs in headless Chromium, waits until the operations are rendered,
then does what a new user does with the defaults the docs fill in: signs in through
`POST /api/v1/auth/login` (Try it out, Execute), gives the returned access token to
the Authorize dialog, and creates an article through `POST /api/v1/articles`,
expecting 201. Fails on any console error, page error or CSP violation. Meant for a
server seeded with the demo newsroom whose first admin is the README's (the login
example), with or without `DISPATCH_CORS_ORIGINS`.

    python3 .ci/swagger_ui_check.py http://127.0.0.1:8080

On failure it saves a screenshot of the page to $SCREENSHOT_DIR (default
/tmp/dispatch-ci-screenshots) and prints its path. Needs the `playwright` Python
package and a Chromium at /usr/bin/chromium (or $CHROMIUM); it never downloads a
browser (no `playwright install`).
"""

import json
import os
import sys
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


def execute_default(page, block_id: str) -> tuple[str, str]:
    """Opens an operation, presses Try it out and Execute with the body the docs
    fill in, and returns the live response's status and body text."""
    block = page.locator(f"#{block_id}")
    block.locator(".opblock-summary").first.click()
    block.locator(".try-out__btn").click()
    block.locator("button.execute").click()
    status_cell = block.locator(".live-responses-table .response .response-col_status")
    status_cell.wait_for(timeout=15_000)
    status = status_cell.inner_text().strip()
    body = block.locator(".live-responses-table .response-col_description pre").first.inner_text()
    return status, body


def authorize(page, token: str) -> None:
    """Gives `token` to the Authorize dialog, as a user pastes it."""
    page.locator(".auth-wrapper .btn.authorize").click()
    dialog = page.locator(".dialog-ux .modal-ux")
    dialog.locator("input").first.fill(token)
    dialog.locator(".auth-btn-wrapper button.authorize").click()
    dialog.locator(".auth-btn-wrapper button.btn-done").click()


def try_it_out(page, problems: list[str]) -> None:
    """Signs in, authorises and creates an article with the docs' defaults."""
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


def screenshot(page) -> None:
    folder = os.environ.get("SCREENSHOT_DIR", "/tmp/dispatch-ci-screenshots")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"swagger-ui-{int(time.time())}.png")
    try:
        page.screenshot(path=path, full_page=True)
        print(f"screenshot of the failing page: {path}", file=sys.stderr)
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
                try_it_out(page, problems)
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
