#!/usr/bin/env python3
"""Swagger UI works under its Content-Security-Policy.

Opens <base>/docs in headless Chromium, waits until the operations are rendered,
and fails on any console error, page error or CSP violation.

    python3 .ci/swagger_ui_check.py http://127.0.0.1:8080

Needs the `playwright` Python package and a Chromium at /usr/bin/chromium (or
$CHROMIUM); it never downloads a browser (no `playwright install`).
"""

import os
import sys

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
    """Console errors count, except the browser's own 404 for /favicon.ico (the
    API serves no icon; that is not Swagger UI failing)."""
    url = (msg.location or {}).get("url", "")
    if msg.type == "error" and not url.endswith("/favicon.ico"):
        problems.append(f"console {msg.type}: {msg.text} ({url})")


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
        problems += [f"CSP violation: {v}" for v in page.evaluate("window.__cspViolations || []")]
        browser.close()
    if problems:
        print("Swagger UI check failed:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"Swagger UI at {base}/docs renders with no console error or CSP violation")
    return 0


if __name__ == "__main__":
    sys.exit(main())
