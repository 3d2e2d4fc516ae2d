#!/usr/bin/env python3
"""Dataset generator for the load benchmark: writes a synthetic newsroom straight
into a migrated Dispatch database, with SQL, in the rows the API itself would have
written (every derived column included), so that a million articles take minutes.

usage: seed.py postgres ARTICLES | psql -v ON_ERROR_STOP=1 -q DATABASE_URL
       seed.py sqlite PATH ARTICLES
       seed.py check API_BASE TOKEN SLUG   (compares a seeded article with the server's derivation)

The shape (issue 10): ARTICLES articles of ~3 KB of Markdown (and the body_html the
renderer makes of it) drawn from a pool of varied paragraphs over a vocabulary of a
few thousand words with a Zipf-like frequency; 20 publishers, 200 authors (ten per
publisher), 50 tags of skewed popularity; 1-3 authors (of the article's publisher)
and 1-4 tags per article; 20% syndicated from another publisher (with a canonical
URL); 95% published over the past five years, 2% draft, 1% scheduled in the next
30 days, 2% archived; 2% renamed once (version 2, the old slug in the slug history,
two revisions); reader comments on 30% of the published ones (comment_count is the
approved ones). Every article ends with "Archive reference NNNNNNN." (its number,
zero-padded to 7 digits): a word that one article holds, for the narrow search.

Derived columns: slug (the title's, `-2`, `-3`... on a clash, as the API makes
them), title_key / name_key (lower-cased ASCII), excerpt (the first paragraph,
shortened as `markdown::excerpt` does), body_html (exactly what `render_checked`
returns for these bodies: `bench/run` checks one against the server), reading time
(words / 200, rounded up), version, revisions with their JSON snapshot,
comment_count; `search_vector` (PostgreSQL, generated) and the FTS5 table (SQLite,
by its triggers) fill themselves. Ids are UUIDv7 of the row's creation time.

PostgreSQL: one transaction; the secondary indexes of the bulk tables are dropped
first and re-created from their own definitions afterwards (building a GIN index
once is far faster than a million inserts into it), so the schema ends as the
migrations left it.
"""
import datetime as dt
import json
import os
import random
import sqlite3
import sys
import uuid

PUBLISHERS, AUTHORS, TAGS = 20, 200, 50
LEADS, PARAGRAPHS, HEADINGS = 2000, 6000, 300
EXCERPT_CHARS = 240
SEED = 42

NEWS_WORDS = (
    "council harbour ferry rebate climate transit school budget clinic river drought "
    "orchard library market vote levy broadband tram storm coast wind solar housing "
    "festival museum bridge port freight rail nurse hospital water energy farm court "
    "minister mayor police union strike election inquiry report plan tax rent wage "
    "fire flood road airport station teacher student doctor patient court judge jury"
).split()
SYLLABLES = (
    "ba be bi bo bu ca ce ci co cu da de di do du fa fe fi fo ga ge go gu ha he hi ho "
    "ka ke ki ko la le li lo lu ma me mi mo mu na ne ni no nu pa pe pi po pu ra re ri "
    "ro ru sa se si so su ta te ti to tu va ve vi vo wa we wi za ze zo an en in on ar "
    "er ir or ur al el il ol st tr pr gr br cl fl sh ch th"
).split()
FILLER = "the of and to in a for on with at by from as that is was over after".split()
TOPICS = (
    "Politics Business Climate Health Education Transport Housing Crime Courts Sport "
    "Culture Arts Music Film Books Science Technology Energy Farming Fishing Weather "
    "Environment Water Roads Rail Aviation Shipping Tourism Food Religion Media Labour "
    "Economy Budget Elections Council Parliament Defence Foreign Migration Heritage "
    "History Obituaries Opinion Letters Features Investigations Local Regional World"
).split()
assert len(TOPICS) == TAGS
FIRST = (
    "Ada Ben Cleo Dara Eli Fern Gus Hana Ivo Jun Kai Lena Milo Nora Otto Pia Quin Rosa "
    "Saul Tova"
).split()
LAST = "Archer Bell Cruz Dunn Ekwueme Frost Gill Hale Ito Jovanovic".split()
PLACES = "Harbor City|Millbrook|Lyon|Castlereach|Port Ellen|Kingsbridge|Avondale".split("|")


def vocabulary(rng):
    """A few thousand made-up words plus the newsroom words, most common first."""
    words = set()
    while len(words) < 6000:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    made = sorted(words)
    rng.shuffle(made)
    return FILLER + NEWS_WORDS + made


class Corpus:
    """Paragraph pools with their Markdown, HTML, word counts and excerpts."""

    def __init__(self, rng):
        self.words = vocabulary(rng)
        weights = [1.0 / (rank + 1) for rank in range(len(self.words))]
        self.cum = []
        total = 0.0
        for w in weights:
            total += w
            self.cum.append(total)
        self.rng = rng
        self.leads = [self.paragraph(False) for _ in range(LEADS)]
        self.paragraphs = [self.paragraph(True) for _ in range(PARAGRAPHS)] + [
            self.heading() for _ in range(HEADINGS)
        ]
        rng.shuffle(self.paragraphs)
        # Title words: the content words only.
        self.title_words = self.words[len(FILLER):len(FILLER) + 2000]

    def pick(self, k):
        return self.rng.choices(self.words, cum_weights=self.cum, k=k)

    def paragraph(self, markup):
        rng = self.rng
        words = self.pick(rng.randint(45, 75))
        md_words, html_words = [], []
        for i, w in enumerate(words):
            if i == 0:
                w = w.capitalize()
            elif i % 11 == 10 and rng.random() < 0.3 and i < len(words) - 1:
                w += ","
            if markup and i > 0 and i < len(words) - 1 and rng.random() < 0.01 and not w.endswith(","):
                md_words.append(f"*{w}*")
                html_words.append(f"<em>{w}</em>")
            else:
                md_words.append(w)
                html_words.append(w)
        md = " ".join(md_words) + "."
        html = "<p>" + " ".join(html_words) + ".</p>\n"
        # The excerpt is only used for leads, which carry no markup.
        return {"md": md, "html": html, "words": len(md.split()), "excerpt": shorten(md)}

    def heading(self):
        words = self.pick(self.rng.randint(2, 6))
        text = " ".join(words).capitalize()
        return {"md": "## " + text, "html": f"<h2>{text}</h2>\n", "words": len(words) + 1}


def shorten(text, max_chars=EXCERPT_CHARS):
    """markdown::shorten."""
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    i = max((j for j, c in enumerate(cut) if c.isspace()), default=-1)
    if i > max_chars // 2:
        cut = cut[:i]
    punct = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
    return cut.rstrip("".join(punct) + " \t\n\r\f\v") + "…"


def uuid7(at, rng):
    ms = int(at.timestamp() * 1000)
    rand = rng.getrandbits(74)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | (rand >> 62) << 64 | 0b10 << 62 | (rand & ((1 << 62) - 1))
    return uuid.UUID(int=value)


def slugify(text):
    out = []
    for ch in text.lower():
        if ch.isascii() and ch.isalnum():
            out.append(ch)
        elif out and out[-1] != "-":
            out.append("-")
    slug = "".join(out).rstrip("-")
    if len(slug) > 72:
        slug = slug[:72].rstrip("-")
    return slug


def ts(at):
    """A timestamp as the API stores it on SQLite (and writes in snapshots)."""
    return at.strftime("%Y-%m-%dT%H:%M:%S+00:00") if at else None


def taxonomy(rng, now):
    """Publishers, authors and tags: (id, slug, name, ...) rows, as plain values."""
    base = now - dt.timedelta(days=6 * 365)
    publishers, authors, tags = [], [], []
    adjectives = "Daily Evening Morning Weekly Coastal Valley Northern Southern Metro County".split()
    nouns = "Courier Herald Gazette Chronicle Tribune Ledger Post Observer Dispatch Examiner".split()
    for i in range(PUBLISHERS):
        name = f"The {adjectives[i % 10]} {nouns[(i * 3 + i // 10) % 10]}"
        at = base + dt.timedelta(hours=i)
        publishers.append(dict(id=uuid7(at, rng), slug=slugify(name), name=name, name_key=name.lower(),
                               description=f"{name}, a newsroom since {1900 + i * 5}.",
                               website_url=f"https://{slugify(name)}.example", at=at))
    for i in range(AUTHORS):
        name = f"{FIRST[i % 20]} {LAST[i // 20]}"
        at = base + dt.timedelta(days=1, hours=i)
        authors.append(dict(id=uuid7(at, rng), slug=slugify(name), name=name, name_key=name.lower(),
                            bio=f"{name} reports for {publishers[i % PUBLISHERS]['name']}.",
                            avatar_url=None if i % 3 else f"https://img.example/{slugify(name)}.jpg",
                            publisher_id=publishers[i % PUBLISHERS]["id"], at=at))
    for i, name in enumerate(TOPICS):
        at = base + dt.timedelta(days=2, hours=i)
        tags.append(dict(id=uuid7(at, rng), slug=slugify(name), name=name, name_key=name.lower(),
                         description=None if i % 2 else f"Stories about {name.lower()}.", at=at))
    return publishers, authors, tags


# --- PostgreSQL: SQL on stdout -------------------------------------------------

def copy_text(v):
    if v is None:
        return r"\N"
    return str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def sql_lit(v):
    if v is None:
        return "NULL"
    if isinstance(v, dt.datetime):
        return f"'{v.isoformat()}'"
    return "'" + str(v).replace("'", "''") + "'"


def postgres(n_articles):
    rng = random.Random(SEED)
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    corpus = Corpus(rng)
    publishers, authors, tags = taxonomy(rng, now)
    out = sys.stdout
    w = out.write
    w("\\set ON_ERROR_STOP 1\nSET client_min_messages = warning;\nSET TimeZone = 'UTC';\n"
      "SET synchronous_commit = off;\nSET maintenance_work_mem = '512MB';\nSET work_mem = '64MB';\n"
      "BEGIN;\nSELECT setseed(0.42);\n")
    w("""CREATE FUNCTION pg_temp.uuid7(ts timestamptz) RETURNS uuid LANGUAGE sql VOLATILE AS $$
  SELECT (lpad(to_hex(floor(extract(epoch FROM ts) * 1000)::bigint), 12, '0') || '7'
          || substr(md5(random()::text), 1, 3) || to_hex(8 + floor(random() * 4)::int)
          || substr(md5(random()::text), 1, 15))::uuid $$;
CREATE FUNCTION pg_temp.stamp(ts timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"') $$;
""")
    for p in publishers:
        w("INSERT INTO publishers (id, slug, name, name_key, description, website_url, created_at, updated_at) VALUES (" + ", ".join(sql_lit(x) for x in (
            p["id"], p["slug"], p["name"], p["name_key"], p["description"], p["website_url"], p["at"], p["at"])) + ");\n")
    for a in authors:
        w("INSERT INTO authors (id, slug, name, name_key, bio, avatar_url, publisher_id, created_at, updated_at) VALUES ("
          + ", ".join(sql_lit(x) for x in (a["id"], a["slug"], a["name"], a["name_key"], a["bio"], a["avatar_url"],
                                           a["publisher_id"], a["at"], a["at"])) + ");\n")
    for t in tags:
        w("INSERT INTO tags (id, slug, name, name_key, description, created_at, updated_at) VALUES ("
          + ", ".join(sql_lit(x) for x in (t["id"], t["slug"], t["name"], t["name_key"], t["description"],
                                           t["at"], t["at"])) + ");\n")
    w("CREATE TEMP TABLE pubs (idx int PRIMARY KEY, id uuid, slug text);\n")
    for i, p in enumerate(publishers):
        w(f"INSERT INTO pubs VALUES ({i}, {sql_lit(p['id'])}, {sql_lit(p['slug'])});\n")
    w("CREATE TEMP TABLE auths (idx int PRIMARY KEY, id uuid);\nCREATE TEMP TABLE tagz (idx int PRIMARY KEY, id uuid);\n")
    w("INSERT INTO auths VALUES " + ", ".join(f"({i}, {sql_lit(a['id'])})" for i, a in enumerate(authors)) + ";\n")
    w("INSERT INTO tagz VALUES " + ", ".join(f"({i}, {sql_lit(t['id'])})" for i, t in enumerate(tags)) + ";\n")
    w("CREATE TEMP TABLE pool_lead (i int PRIMARY KEY, md text, html text, words int, excerpt text);\n"
      "COPY pool_lead FROM stdin;\n")
    for i, p in enumerate(corpus.leads):
        w("\t".join(copy_text(x) for x in (i, p["md"], p["html"], p["words"], p["excerpt"])) + "\n")
    w("\\.\nCREATE TEMP TABLE pool_para (i int PRIMARY KEY, md text, html text, words int);\nCOPY pool_para FROM stdin;\n")
    for i, p in enumerate(corpus.paragraphs):
        w("\t".join(copy_text(x) for x in (i, p["md"], p["html"], p["words"])) + "\n")
    # Small tables rather than arrays: an array this long is TOASTed and would be
    # decompressed at every subscript.
    w("\\.\nCREATE TEMP TABLE title_words (i int PRIMARY KEY, w text);\nINSERT INTO title_words VALUES "
      + ",".join(f"({i}, {sql_lit(x)})" for i, x in enumerate(corpus.title_words)) + ";\n")
    w(f"CREATE TEMP TABLE datelines (d text[]);\nINSERT INTO datelines VALUES (ARRAY["
      + ",".join(sql_lit(p.upper()) for p in PLACES) + "]);\n")
    tw, npool = len(corpus.title_words), len(corpus.paragraphs)
    w(f"""
-- Bulk load without the secondary indexes; they are re-created from their own definitions below.
CREATE TEMP TABLE saved_indexes AS
  SELECT indexname, indexdef FROM pg_indexes
  WHERE schemaname = current_schema()
    AND tablename IN ('articles', 'article_authors', 'article_tags', 'article_revisions', 'article_slugs', 'comments')
    AND indexname NOT IN (SELECT conname FROM pg_constraint);
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT indexname FROM saved_indexes LOOP EXECUTE format('DROP INDEX %I', r.indexname); END LOOP;
END $$;

CREATE TEMP TABLE draw AS
  SELECT n, random() AS r_status, random() AS r_time, random() AS r_created, random() AS r_pub,
         random() AS r_synd, random() AS r_dateline, random() AS r_rename, random() AS r_comments,
         floor(random() * {LEADS})::int AS lead_i, 6 + floor(random() * 5)::int AS npara,
         3 + floor(random() * 5)::int AS ntitle, random() AS r_authors, floor(random() * 10)::int AS a0,
         1 + floor(random() * 4)::int AS ntags
  FROM generate_series(1, {n_articles}) AS n;

CREATE TEMP TABLE art AS
  SELECT d.*, s.status,
         CASE WHEN s.status IN ('published', 'archived')
                THEN date_trunc('second', now() - interval '10 minutes' - d.r_time * interval '1826 days')
              WHEN s.status = 'scheduled'
                THEN date_trunc('second', now() + interval '1 hour' + d.r_time * interval '30 days')
         END AS published_at,
         floor(d.r_pub * {PUBLISHERS})::int AS pub_idx,
         CASE WHEN d.r_synd < 0.2
              THEN (floor(d.r_pub * {PUBLISHERS})::int + 1 + floor(d.r_synd * 5 * {PUBLISHERS - 1})::int) % {PUBLISHERS}
         END AS synd_idx,
         (SELECT string_agg(CASE WHEN c.k = 1 THEN initcap(t.w) ELSE t.w END, ' ' ORDER BY c.k)
            FROM (SELECT k, floor(random() * {tw})::int AS j FROM generate_series(1, d.ntitle) AS k) c
            JOIN title_words t ON t.i = c.j) AS title,
         lpad(d.n::text, 7, '0') AS ref
  FROM draw d,
       LATERAL (SELECT CASE WHEN d.r_status < 0.95 THEN 'published' WHEN d.r_status < 0.97 THEN 'draft'
                            WHEN d.r_status < 0.98 THEN 'scheduled' ELSE 'archived' END AS status) s;

ALTER TABLE art ADD COLUMN created_at timestamptz, ADD COLUMN id uuid, ADD COLUMN base_slug text,
  ADD COLUMN slug text, ADD COLUMN first_slug text, ADD COLUMN updated_at timestamptz;
UPDATE art SET created_at = date_trunc('second', coalesce(published_at, now() - r_time * interval '1826 days')
                                                 - interval '1 minute' - r_created * interval '2 days');
UPDATE art SET created_at = LEAST(created_at, now() - interval '1 hour') WHERE status = 'scheduled';
UPDATE art SET id = pg_temp.uuid7(created_at), base_slug = rtrim(left(lower(replace(title, ' ', '-')), 72), '-');
-- Slugs as the API makes them: the title's, then -2, -3... on a clash (oldest first).
UPDATE art SET first_slug = CASE WHEN s.rn = 1 THEN art.base_slug ELSE art.base_slug || '-' || s.rn END
  FROM (SELECT n, row_number() OVER (PARTITION BY base_slug ORDER BY created_at, n) AS rn FROM art) s
  WHERE s.n = art.n;
UPDATE art SET slug = CASE WHEN r_rename < 0.02 THEN left(first_slug, 60) || '-v' || n ELSE first_slug END,
               updated_at = CASE WHEN r_rename < 0.02 THEN created_at + interval '3 hours' ELSE created_at END;
CREATE INDEX ON art (n);

-- Comments: some on 30% of the published articles; the approved ones are counted on the article.
CREATE TEMP TABLE cmt AS
  SELECT a.n, a.id AS article_id, k,
         CASE WHEN r < 0.85 THEN 'approved' WHEN r < 0.95 THEN 'pending' ELSE 'spam' END AS status,
         date_trunc('second', a.published_at + (k * 3 + r * 3) * interval '1 hour') AS at
  FROM art a, LATERAL (SELECT k, random() AS r FROM generate_series(1, 1 + floor(a.r_comments / 0.3 * 6)::int) AS k) c
  WHERE a.status = 'published' AND a.r_comments < 0.3;
CREATE TEMP TABLE cmt_count AS SELECT n, count(*)::int AS approved FROM cmt WHERE status = 'approved' GROUP BY n;
CREATE INDEX ON cmt_count (n);

INSERT INTO articles (id, slug, title, title_key, subtitle, excerpt, body_markdown, body_html, status,
                      published_at, dateline, canonical_url, publisher_id, syndicated_from_id,
                      reading_time_minutes, version, created_at, updated_at, deleted_at, comment_count)
SELECT a.id, a.slug, a.title, lower(a.title), NULL, l.excerpt,
       l.md || E'\\n\\n' || b.md || E'\\n\\nArchive reference ' || a.ref || '.',
       l.html || b.html || '<p>Archive reference ' || a.ref || E'.</p>\\n',
       a.status, a.published_at,
       CASE WHEN a.r_dateline < 0.6 THEN dl.d[1 + floor(a.r_dateline / 0.6 * {len(PLACES)})::int] END,
       CASE WHEN a.synd_idx IS NOT NULL THEN 'https://' || sp.slug || '.example/' || a.first_slug END,
       p.id, sp.id,
       GREATEST(1, ceil((l.words + b.words + 3) / 200.0))::int,
       CASE WHEN a.r_rename < 0.02 THEN 2 ELSE 1 END, a.created_at, a.updated_at, NULL,
       coalesce(cc.approved, 0)
FROM art a
JOIN pool_lead l ON l.i = a.lead_i
JOIN pubs p ON p.idx = a.pub_idx
LEFT JOIN pubs sp ON sp.idx = a.synd_idx
LEFT JOIN cmt_count cc ON cc.n = a.n
CROSS JOIN datelines dl,
LATERAL (SELECT string_agg(pp.md, E'\\n\\n' ORDER BY c.k) AS md, string_agg(pp.html, '' ORDER BY c.k) AS html,
                sum(pp.words)::int AS words
           FROM (SELECT k, floor(random() * {npool})::int AS j FROM generate_series(1, a.npara) AS k) c
           JOIN pool_para pp ON pp.i = c.j) b
ORDER BY a.n;

-- Bylines: 1-3 authors of the article's publisher (ten each), in order.
INSERT INTO article_authors (article_id, author_id, position)
SELECT a.id, au.id, k - 1
FROM art a
CROSS JOIN LATERAL generate_series(1, CASE WHEN a.r_authors < 0.6 THEN 1 WHEN a.r_authors < 0.9 THEN 2 ELSE 3 END) AS k
JOIN auths au ON au.idx = a.pub_idx + {PUBLISHERS} * ((a.a0 + (k - 1) * 3) % 10);

-- Tags: 1-4 distinct, popular ones far more often, in order of first pick.
INSERT INTO article_tags (article_id, tag_id, position)
SELECT id, tag_id, (row_number() OVER (PARTITION BY id ORDER BY first_k) - 1)::int
FROM (SELECT a.id, tg.id AS tag_id, min(t.k) AS first_k
        FROM art a
        CROSS JOIN LATERAL (SELECT k, floor({TAGS} * power(random(), 1.8))::int AS t
                              FROM generate_series(1, a.ntags) AS k) t
        JOIN tagz tg ON tg.idx = t.t
       GROUP BY a.id, tg.id) x;

INSERT INTO comments (id, article_id, author_name, email, body, status, created_at, updated_at)
SELECT pg_temp.uuid7(c.at), c.article_id, 'Reader ' || (c.n % 997 + c.k),
       'reader' || (c.n % 997 + c.k) || '@example.com',
       'Thanks for reporting this. ' || CASE c.k % 3 WHEN 0 THEN 'The council should answer for it.'
                                                    WHEN 1 THEN 'We saw the same on our street.'
                                                    ELSE 'Any word on what happens next?' END,
       c.status, c.at, c.at
FROM cmt c;

-- Revisions: "create" (and an "update" renaming the slug for the renamed ones), with
-- the snapshot exactly as serde writes it.
CREATE TEMP TABLE links AS
  SELECT a.id,
         (SELECT coalesce('[' || string_agg('"' || aa.author_id || '"', ',' ORDER BY aa.position) || ']', '[]')
            FROM article_authors aa WHERE aa.article_id = a.id) AS author_ids,
         (SELECT coalesce('[' || string_agg('"' || at.tag_id || '"', ',' ORDER BY at.position) || ']', '[]')
            FROM article_tags at WHERE at.article_id = a.id) AS tag_ids
  FROM art a;
""")
    # article_authors/article_tags have no index on article_id alone but their primary
    # keys start with it, so the two subqueries above are index lookups.
    w("""
CREATE TEMP TABLE revs AS
  SELECT ar.id, ar.created_at, ar.updated_at, ar.version, a.first_slug,
         '{"title":' || to_json(ar.title)::text
         || ',"slug":' || to_json(SLUG)::text
         || ',"subtitle":null'
         || ',"excerpt":' || to_json(ar.excerpt)::text
         || ',"body_markdown":' || to_json(ar.body_markdown)::text
         || ',"status":"' || ar.status || '"'
         || ',"published_at":' || coalesce('"' || pg_temp.stamp(ar.published_at) || '"', 'null')
         || ',"dateline":' || coalesce(to_json(ar.dateline)::text, 'null')
         || ',"canonical_url":' || coalesce(to_json(ar.canonical_url)::text, 'null')
         || ',"publisher_id":"' || ar.publisher_id || '"'
         || ',"syndicated_from_id":' || coalesce('"' || ar.syndicated_from_id || '"', 'null')
         || ',"author_ids":' || l.author_ids
         || ',"tag_ids":' || l.tag_ids || '}' AS snapshot_tail,
         ar.slug,
         '[' || array_to_string(ARRAY['"author_ids"', '"body_markdown"']
                || CASE WHEN ar.canonical_url IS NOT NULL THEN ARRAY['"canonical_url"'] ELSE '{}'::text[] END
                || CASE WHEN ar.dateline IS NOT NULL THEN ARRAY['"dateline"'] ELSE '{}'::text[] END
                || ARRAY['"excerpt"']
                || CASE WHEN ar.published_at IS NOT NULL THEN ARRAY['"published_at"'] ELSE '{}'::text[] END
                || ARRAY['"publisher_id"', '"slug"', '"status"']
                || CASE WHEN ar.syndicated_from_id IS NOT NULL THEN ARRAY['"syndicated_from_id"'] ELSE '{}'::text[] END
                || ARRAY['"tag_ids"', '"title"'], ',') || ']' AS created_changed
  FROM articles ar JOIN art a ON a.id = ar.id JOIN links l ON l.id = ar.id;
""".replace("SLUG", "a.first_slug"))
    w("""
INSERT INTO article_revisions (id, article_id, number, action, snapshot, changed, user_id, created_at)
SELECT pg_temp.uuid7(r.created_at), r.id, 1, 'create', r.snapshot_tail, r.created_changed,
       (SELECT id FROM users ORDER BY created_at LIMIT 1), r.created_at
FROM revs r;
INSERT INTO article_revisions (id, article_id, number, action, snapshot, changed, user_id, created_at)
SELECT pg_temp.uuid7(r.updated_at), r.id, 2, 'update',
       replace(r.snapshot_tail, ',"slug":' || to_json(r.first_slug)::text || ',', ',"slug":' || to_json(r.slug)::text || ','),
       '["slug"]', (SELECT id FROM users ORDER BY created_at LIMIT 1), r.updated_at
FROM revs r WHERE r.version = 2;
INSERT INTO article_slugs (slug, article_id, created_at)
SELECT r.first_slug, r.id, r.updated_at FROM revs r WHERE r.version = 2;

DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT indexdef FROM saved_indexes LOOP EXECUTE r.indexdef; END LOOP;
END $$;
COMMIT;
""")


# --- SQLite: written directly --------------------------------------------------

def sqlite(path, n_articles):
    rng = random.Random(SEED)
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    corpus = Corpus(rng)
    publishers, authors, tags = taxonomy(rng, now)
    db = sqlite3.connect(path)
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -200000")
    b = lambda u: u.bytes if u else None  # noqa: E731  uuid_text columns hold the 16 bytes
    user = db.execute("SELECT id FROM users ORDER BY created_at LIMIT 1").fetchone()
    user_id = user[0] if user else None
    with db:
        db.executemany("INSERT INTO publishers (id, slug, name, name_key, description, website_url, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)", [
            (b(p["id"]), p["slug"], p["name"], p["name_key"], p["description"], p["website_url"], ts(p["at"]), ts(p["at"]))
            for p in publishers])
        db.executemany("INSERT INTO authors (id, slug, name, name_key, bio, avatar_url, publisher_id, created_at, updated_at) "
                       "VALUES (?,?,?,?,?,?,?,?,?)", [
            (b(a["id"]), a["slug"], a["name"], a["name_key"], a["bio"], a["avatar_url"], b(a["publisher_id"]),
             ts(a["at"]), ts(a["at"])) for a in authors])
        db.executemany("INSERT INTO tags (id, slug, name, name_key, description, created_at, updated_at) "
                       "VALUES (?,?,?,?,?,?,?)", [
            (b(t["id"]), t["slug"], t["name"], t["name_key"], t["description"], ts(t["at"]), ts(t["at"]))
            for t in tags])
        arts = []
        for n in range(1, n_articles + 1):
            r = rng.random()
            status = "published" if r < 0.95 else "draft" if r < 0.97 else "scheduled" if r < 0.98 else "archived"
            r_time = rng.random()
            if status in ("published", "archived"):
                published_at = now - dt.timedelta(minutes=10) - dt.timedelta(days=1826 * r_time)
            elif status == "scheduled":
                published_at = now + dt.timedelta(hours=1) + dt.timedelta(days=30 * r_time)
            else:
                published_at = None
            published_at = published_at.replace(microsecond=0) if published_at else None
            created_at = ((published_at or now - dt.timedelta(days=1826 * r_time)) - dt.timedelta(minutes=1)
                          - dt.timedelta(days=2 * rng.random())).replace(microsecond=0)
            if status == "scheduled":
                created_at = min(created_at, now - dt.timedelta(hours=1))
            ntitle = rng.randint(3, 7)
            tw = [rng.choice(corpus.title_words) for _ in range(ntitle)]
            title = " ".join([tw[0].capitalize()] + tw[1:])
            pub_idx = rng.randrange(PUBLISHERS)
            synd_idx = (pub_idx + 1 + rng.randrange(PUBLISHERS - 1)) % PUBLISHERS if rng.random() < 0.2 else None
            arts.append(dict(n=n, status=status, published_at=published_at, created_at=created_at, title=title,
                             pub_idx=pub_idx, synd_idx=synd_idx, renamed=rng.random() < 0.02,
                             id=uuid7(created_at, rng), base=slugify(title)))
        seen = {}
        for a in sorted(arts, key=lambda a: (a["created_at"], a["n"])):
            rn = seen[a["base"]] = seen.get(a["base"], 0) + 1
            a["first_slug"] = a["base"] if rn == 1 else f"{a['base']}-{rn}"
        rows, bylines, taggings, comments, revisions, slugs = [], [], [], [], [], []
        for a in arts:
            n = a["n"]
            ref = f"{n:07d}"
            lead = rng.choice(corpus.leads)
            blocks = [rng.choice(corpus.paragraphs) for _ in range(rng.randint(6, 10))]
            md = "\n\n".join([lead["md"]] + [x["md"] for x in blocks] + [f"Archive reference {ref}."])
            html = lead["html"] + "".join(x["html"] for x in blocks) + f"<p>Archive reference {ref}.</p>\n"
            words = lead["words"] + sum(x["words"] for x in blocks) + 3
            slug = f"{a['first_slug'][:60]}-v{n}" if a["renamed"] else a["first_slug"]
            updated_at = a["created_at"] + dt.timedelta(hours=3) if a["renamed"] else a["created_at"]
            publisher = publishers[a["pub_idx"]]
            synd = publishers[a["synd_idx"]] if a["synd_idx"] is not None else None
            dateline = rng.choice(PLACES).upper() if rng.random() < 0.6 else None
            canonical = f"https://{synd['slug']}.example/{a['first_slug']}" if synd else None
            approved = 0
            if a["status"] == "published" and rng.random() < 0.3:
                for k in range(1, rng.randint(1, 6) + 1):
                    r = rng.random()
                    cstatus = "approved" if r < 0.85 else "pending" if r < 0.95 else "spam"
                    approved += cstatus == "approved"
                    at = a["published_at"] + dt.timedelta(hours=k * 3 + r * 3)
                    at = at.replace(microsecond=0)
                    comments.append((b(uuid7(at, rng)), b(a["id"]), f"Reader {n % 997 + k}",
                                     f"reader{n % 997 + k}@example.com", "Thanks for reporting this. "
                                     + ["The council should answer for it.", "We saw the same on our street.",
                                        "Any word on what happens next?"][k % 3], cstatus, ts(at), ts(at)))
            row = dict(title=a["title"], excerpt=lead["excerpt"], md=md, status=a["status"],
                       published_at=a["published_at"], dateline=dateline, canonical=canonical)
            rows.append((b(a["id"]), slug, a["title"], a["title"].lower(), None, lead["excerpt"], md, html, a["status"],
                         ts(a["published_at"]), dateline, canonical, b(publisher["id"]), b(synd["id"]) if synd else None,
                         max(1, -(-words // 200)), 2 if a["renamed"] else 1, ts(a["created_at"]), ts(updated_at),
                         None, approved))
            k = 1 if (r := rng.random()) < 0.6 else 2 if r < 0.9 else 3
            a0 = rng.randrange(10)
            author_ids = [authors[a["pub_idx"] + PUBLISHERS * ((a0 + i * 3) % 10)]["id"] for i in range(k)]
            bylines += [(b(a["id"]), b(x), i) for i, x in enumerate(author_ids)]
            picks = []
            for _ in range(rng.randint(1, 4)):
                t = int(TAGS * rng.random() ** 1.8)
                if t not in picks:
                    picks.append(t)
            tag_ids = [tags[t]["id"] for t in picks]
            taggings += [(b(a["id"]), b(x), i) for i, x in enumerate(tag_ids)]

            def snapshot(slug_now):
                return json.dumps({
                    "title": row["title"], "slug": slug_now, "subtitle": None, "excerpt": row["excerpt"],
                    "body_markdown": row["md"], "status": row["status"], "published_at": ts(row["published_at"]),
                    "dateline": row["dateline"], "canonical_url": row["canonical"], "publisher_id": str(publisher["id"]),
                    "syndicated_from_id": str(synd["id"]) if synd else None,
                    "author_ids": [str(x) for x in author_ids], "tag_ids": [str(x) for x in tag_ids],
                }, ensure_ascii=False, separators=(",", ":"))
            changed = sorted(["author_ids", "body_markdown", "excerpt", "publisher_id", "slug", "status", "tag_ids",
                              "title"] + (["canonical_url"] if canonical else []) + (["dateline"] if dateline else [])
                             + (["published_at"] if a["published_at"] else [])
                             + (["syndicated_from_id"] if synd else []))
            revisions.append((b(uuid7(a["created_at"], rng)), b(a["id"]), 1, "create", snapshot(a["first_slug"]),
                              json.dumps(changed, separators=(",", ":")), user_id, ts(a["created_at"])))
            if a["renamed"]:
                revisions.append((b(uuid7(updated_at, rng)), b(a["id"]), 2, "update", snapshot(slug), '["slug"]',
                                  user_id, ts(updated_at)))
                slugs.append((a["first_slug"], b(a["id"]), ts(updated_at)))
            if len(rows) >= 5000:
                flush(db, rows, bylines, taggings, comments, revisions, slugs)
        flush(db, rows, bylines, taggings, comments, revisions, slugs)
    db.close()


def flush(db, rows, bylines, taggings, comments, revisions, slugs):
    db.executemany("INSERT INTO articles (id, slug, title, title_key, subtitle, excerpt, body_markdown, body_html, "
                   "status, published_at, dateline, canonical_url, publisher_id, syndicated_from_id, "
                   "reading_time_minutes, version, created_at, updated_at, deleted_at, comment_count) "
                   "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    db.executemany("INSERT INTO article_authors (article_id, author_id, position) VALUES (?,?,?)", bylines)
    db.executemany("INSERT INTO article_tags (article_id, tag_id, position) VALUES (?,?,?)", taggings)
    db.executemany("INSERT INTO comments (id, article_id, author_name, email, body, status, created_at, updated_at) "
                   "VALUES (?,?,?,?,?,?,?,?)", comments)
    db.executemany("INSERT INTO article_revisions (id, article_id, number, action, snapshot, changed, user_id, "
                   "created_at) VALUES (?,?,?,?,?,?,?,?)", revisions)
    db.executemany("INSERT INTO article_slugs (slug, article_id, created_at) VALUES (?,?,?)", slugs)
    for x in (rows, bylines, taggings, comments, revisions, slugs):
        x.clear()


def check(base, token, slug):
    """Posts a draft copy of a seeded article through the API and compares what the
    server derives (body_html, excerpt, reading time) with the seeded columns."""
    import http.client
    import urllib.parse
    url = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn.request("GET", f"{url.path}/articles/{slug}", headers=headers)
    seeded = json.loads(conn.getresponse().read())
    conn.request("POST", f"{url.path}/articles", json.dumps({
        "title": seeded["title"] + " check", "body_markdown": seeded["body_markdown"], "status": "draft",
        "publisher_id": seeded["publisher_id"], "author_ids": seeded["author_ids"], "tag_ids": seeded["tag_ids"],
    }), headers)
    made = json.loads(conn.getresponse().read())
    wrong = [k for k in ("body_html", "excerpt", "reading_time_minutes") if made.get(k) != seeded.get(k)]
    if wrong:
        sys.exit(f"seeded {', '.join(wrong)} of {slug} differ from what the server derives: fix bench/seed.py")
    print(f"  seed check: body_html, excerpt and reading time of {slug} equal the server's", file=sys.stderr)


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) >= 3 and sys.argv[1] == "postgres":
        postgres(int(sys.argv[2]))
    elif len(sys.argv) >= 4 and sys.argv[1] == "sqlite":
        sqlite(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(__doc__.split("\n\n")[1])


if __name__ == "__main__":
    main()
