#!/usr/bin/env python3
"""Dataset generator for the load benchmark: fills a running Dispatch with a
synthetic newsroom over its own API (as an editor would), and prints one slug.

usage: seed.py BASE_URL TOKEN [ARTICLES]
"""
import http.client
import json
import random
import sys
import urllib.parse

WORDS = (
    "harbour council ferry rebate climate transit school budget clinic river drought "
    "orchard library market vote levy broadband tram storm coast wind solar housing "
    "festival museum bridge port freight rail nurse hospital water energy farm court"
).split()


def main():
    base, token = sys.argv[1], sys.argv[2]
    articles = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
    rng = random.Random(42)
    url = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def post(path, body):
        conn.request("POST", path, json.dumps(body), headers)
        resp = conn.getresponse()
        data = json.loads(resp.read())
        if resp.status != 201:
            sys.exit(f"POST {path} -> {resp.status}: {data}")
        return data

    publishers = [post("/api/v1/publishers", {"name": f"Outlet {i}", "description": "A newsroom."})["id"] for i in range(5)]
    authors = [post("/api/v1/authors", {"name": f"Reporter {i}", "publisher_id": rng.choice(publishers)})["id"] for i in range(40)]
    tags = [post("/api/v1/tags", {"name": w.title()})["id"] for w in WORDS[:12]]
    slug = None
    for i in range(articles):
        words = [rng.choice(WORDS) for _ in range(rng.randint(250, 700))]
        paragraphs = [" ".join(words[j:j + 60]).capitalize() + "." for j in range(0, len(words), 60)]
        carried, original = rng.sample(publishers, 2)
        article = post("/api/v1/articles", {
            "title": f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} {rng.choice(WORDS)} {i}",
            "body_markdown": "\n\n".join(paragraphs),
            "status": "published" if rng.random() < 0.9 else "draft",
            "published_at": f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z",
            "dateline": rng.choice(["HARBOR CITY", "MILLBROOK", "LYON", "CASTLEREACH"]),
            "publisher_id": carried,
            "syndicated_from_id": original if rng.random() < 0.3 else None,
            "author_ids": rng.sample(authors, rng.randint(1, 3)),
            "tag_ids": rng.sample(tags, rng.randint(1, 3)),
        })
        if article["status"] == "published":
            slug = article["slug"]
    print(slug)


if __name__ == "__main__":
    main()
