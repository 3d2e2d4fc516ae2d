"""Validates a served Dispatch's sitemaps against the published schemas.

Usage: sitemaps_check.py BASE_URL [MIN_ARTICLES]

Fetches BASE_URL/sitemap.xml and checks it against the sitemaps.org index schema
(.ci/xsd/siteindex.xsd), then every child it lists (fetched from BASE_URL at the
child's path, whatever host DISPATCH_PUBLIC_API_URL gave it) against sitemap.xsd,
and /sitemap-news.xml against sitemap.xsd with Google's News schema for the
`news:` elements. Fails unless the article children list at least MIN_ARTICLES
URLs (default 1), and when a page past the last is not a 404 problem.
"""

import json
import sys
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import xmlschema

XSD = Path(__file__).resolve().parent / "xsd"
NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def fetch(url):
    with urllib.request.urlopen(url, timeout=30) as resp:
        kind = resp.headers.get("content-type", "")
        if not kind.startswith("application/xml"):
            sys.exit(f"{url}: content type {kind!r}, not application/xml")
        return resp.read()


def main():
    base = sys.argv[1].rstrip("/")
    want = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    index_schema = xmlschema.XMLSchema(str(XSD / "siteindex.xsd"))
    urlset_schema = xmlschema.XMLSchema(
        [str(XSD / "sitemap.xsd"), str(XSD / "sitemap-news.xsd")]
    )

    index = fetch(f"{base}/sitemap.xml")
    index_schema.validate(index)
    root = ET.fromstring(index)
    children = [s.findtext(f"{NS}loc") for s in root.iter(f"{NS}sitemap")]
    if not children:
        sys.exit("the sitemap index lists nothing")
    articles = 0
    for loc in children:
        path = urllib.parse.urlsplit(loc).path
        body = fetch(f"{base}{path}")
        urlset_schema.validate(body)
        urls = ET.fromstring(body).findall(f"{NS}url")
        if "/articles-" in path:
            articles += len(urls)
        print(f"ok: {path}: {len(urls)} URLs, valid")
    news = fetch(f"{base}/sitemap-news.xml")
    if ET.fromstring(news).findall(f"{NS}url"):
        urlset_schema.validate(news)
        print("ok: /sitemap-news.xml valid")
    if articles < want:
        sys.exit(f"the article sitemaps list {articles} URLs, fewer than {want}")

    past = len([c for c in children if "/articles-" in c]) + 1
    try:
        urllib.request.urlopen(f"{base}/sitemaps/articles-{past}.xml", timeout=30)
        sys.exit(f"articles-{past}.xml, past the last page, was served")
    except urllib.error.HTTPError as err:
        problem = json.loads(err.read())
        if err.code != 404 or problem.get("type") != "urn:dispatch:problem:not-found":
            sys.exit(f"articles-{past}.xml: {err.code} {problem}")
    print(f"ok: {len(children)} sitemaps valid, {articles} article URLs, past the last a 404")


if __name__ == "__main__":
    main()
