"""Validates the feeds a served demo newsroom publishes with real feed tooling.

Atom and RSS are parsed by `feedparser`, which must find nothing wrong (`bozo == 0`);
JSON Feed (which feedparser does not read) is checked against the JSON Feed 1.1
schema in tests/api/jsonfeed-1.1.schema.json with `jsonschema`. First it publishes
an article whose title holds `&`, `<`, quotes, an emoji and right-to-left text, and
checks that every format gives that title back exactly.

Usage: feeds_check.py BASE_URL ADMIN_EMAIL ADMIN_PASSWORD
"""

import json
import pathlib
import sys
import urllib.request

import feedparser
import jsonschema

TITLE = 'Tides & "ports" <rising> \U0001F30A \u0645\u064A\u0646\u0627\u0621 \u05D4\u05E0\u05DE\u05DC'
SCHEMA = pathlib.Path(__file__).resolve().parent.parent / "tests/api/jsonfeed-1.1.schema.json"
TYPES = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}


def call(base, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, headers=headers)
    with urllib.request.urlopen(req) as resp:
        return resp.status, resp.headers.get("Content-Type"), resp.read()


def main():
    base, email, password = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
    _, _, raw = call(base, "/api/v1/auth/login", {"email": email, "password": password})
    token = json.loads(raw)["access_token"]
    _, _, raw = call(base, "/api/v1/publishers/harbor-city-ledger")
    publisher = json.loads(raw)["id"]
    call(
        base,
        "/api/v1/articles",
        {
            "title": TITLE,
            "body_markdown": "Water & *wind* <b>bold</b>.",
            "excerpt": "Fish & chips <3",
            "publisher_id": publisher,
            "status": "published",
        },
        token,
    )
    schema = json.loads(SCHEMA.read_text())
    feeds = [
        "articles",
        "publishers/harbor-city-ledger",
        "authors/maren-okafor",
        "tags/climate",
    ]
    checked = 0
    for feed in feeds:
        for ext, expected_type in TYPES.items():
            path = f"/feeds/{feed}.{ext}"
            status, content_type, body = call(base, path)
            assert status == 200, (path, status)
            assert content_type == expected_type, (path, content_type)
            if ext == "json":
                doc = json.loads(body)
                jsonschema.validate(doc, schema)
                titles = [item.get("title") for item in doc["items"]]
            else:
                parsed = feedparser.parse(body)
                assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
                want = "atom10" if ext == "atom" else "rss20"
                assert parsed.version == want, (path, parsed.version)
                assert parsed.entries, path
                for entry in parsed.entries:
                    assert entry.get("id") and entry.get("link") and entry.get("title"), entry
                titles = [entry.title for entry in parsed.entries]
            assert titles, path
            if feed in ("articles", "publishers/harbor-city-ledger"):
                assert titles[0] == TITLE, (path, titles[0])
            checked += 1
    print(f"ok: {checked} feeds parse cleanly (feedparser bozo 0, JSON Feed schema) and keep the title {TITLE!r}")


if __name__ == "__main__":
    main()
