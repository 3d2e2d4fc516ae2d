#!/usr/bin/env python3
"""The client side of the media benchmark (issue 12), driven by bench/media: makes the
photos, uploads them, fetches their renditions, samples the server's memory and times
list reads while image work runs. Each measuring command prints markdown table rows
(`| what | figure | note |`) on stdout and its progress on stderr.

usage: media.py photos DIR COUNT             COUNT distinct 4000x3000 JPEGs (and small.jpg), kept
       media.py seed ORIGIN TOKEN DIR N       N small photos, so that the library lists 20
       media.py first ORIGIN TOKEN DIR REPEAT ASSET_FILE   upload -> every rendition
       media.py peak ORIGIN TOKEN DIR PID     peak RSS: 4 uploads at once, then their renditions
       media.py busy ORIGIN TOKEN DIR PID SECONDS RATE   list reads idle / during uploads / renditions

Photos need Pillow (bench/media installs it into bench/.venv); the rest is the standard
library. Every upload is new to the server (no 200 "already uploaded"): a photo's bytes
get a JPEG comment (COM segment) with a fresh nonce after the SOI marker, which changes
the SHA-256 and nothing the decoder does.
"""
import http.client
import json
import os
import random
import statistics
import sys
import threading
import time
import urllib.parse

W, H = 4000, 3000


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# --- photos -------------------------------------------------------------------------


def make_photo(path, seed, size=(W, H)):
    """A photo-like JPEG: three rotated gradients, blurred blobs, then grain (quality 90).
    Noise keeps the encoder honest (a flat image would be tiny and decode in no time)."""
    from PIL import Image, ImageChops, ImageDraw, ImageFilter

    rnd = random.Random(seed)
    w, h = size

    def grad():
        return Image.linear_gradient("L").rotate(rnd.uniform(0, 360)).resize((w, h), Image.BILINEAR)

    img = Image.merge("RGB", (grad(), grad(), grad()))
    draw = ImageDraw.Draw(img)
    for _ in range(60):
        x, y, s = rnd.randrange(w), rnd.randrange(h), rnd.randrange(w // 80 + 1, w // 4)
        draw.ellipse((x, y, x + s, y + int(s * rnd.uniform(0.4, 1.6))),
                     fill=tuple(rnd.randrange(256) for _ in range(3)))
    img = img.filter(ImageFilter.GaussianBlur(max(1, w // 700)))
    grain = Image.merge("RGB", [Image.effect_noise((w, h), 18) for _ in range(3)])
    img = ImageChops.add(img, grain, 1.0, -128)
    tmp = path + ".tmp"
    img.save(tmp, "JPEG", quality=90)
    os.replace(tmp, path)


def photos(directory, count):
    os.makedirs(directory, exist_ok=True)
    for i in range(count):
        path = os.path.join(directory, f"photo-{i}.jpg")
        if not os.path.exists(path):
            t0 = time.monotonic()
            make_photo(path, 1200 + i)
            log(f"  made {path}: {os.path.getsize(path) / 1e6:.1f} MB in {time.monotonic() - t0:.1f} s")
    small = os.path.join(directory, "small.jpg")
    if not os.path.exists(small):
        make_photo(small, 7, (640, 480))


_nonce = [random.getrandbits(48)]
_nonce_lock = threading.Lock()


def fresh(data):
    """The same JPEG with a new comment after SOI: new bytes, same pixels."""
    with _nonce_lock:
        _nonce[0] += 1
        text = f"bench/media {_nonce[0]}".encode()
    return data[:2] + b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text + data[2:]


def load_photos(directory):
    names = sorted(n for n in os.listdir(directory) if n.startswith("photo-") and n.endswith(".jpg"))
    return [open(os.path.join(directory, n), "rb").read() for n in names]


# --- HTTP ---------------------------------------------------------------------------


class Client:
    """One keep-alive connection (reconnects when the server closes it)."""

    def __init__(self, origin, token=None):
        u = urllib.parse.urlsplit(origin)
        self.host, self.port, self.token = u.hostname, u.port, token
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        """(status, body bytes, seconds)."""
        h = dict(headers or {})
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            t0 = time.monotonic()
            try:
                self.conn.request(method, path, body=body, headers=h)
                resp = self.conn.getresponse()
                data = resp.read()
                return resp.status, data, time.monotonic() - t0
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def upload(self, data):
        """(status, asset JSON or None, seconds): the raw-body form of POST /api/v1/media."""
        status, body, secs = self.request("POST", "/api/v1/media", data, {"Content-Type": "image/jpeg"})
        return status, (json.loads(body) if status in (200, 201) else None), secs


def upload_new(origin, token, data):
    status, asset, secs = Client(origin, token).upload(fresh(data))
    if status != 201:
        raise SystemExit(f"upload answered {status}, not 201")
    return asset, secs


def pct(values, p):
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))]


def ms(secs):
    return f"{secs * 1000:.1f} ms" if secs < 10 else f"{secs:.2f} s"


def parallel(jobs):
    """Runs each job (a callable) in its own thread at once; their results, in order."""
    results = [None] * len(jobs)
    errors = []
    start = threading.Barrier(len(jobs))

    def run(i):
        start.wait()
        try:
            results[i] = jobs[i]()
        except BaseException as e:  # reported below, not lost in the thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


# --- memory -------------------------------------------------------------------------


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class Memory:
    """Samples VmRSS every 20 ms; VmHWM (the kernel's peak) is reset at the start
    (`echo 5 > /proc/PID/clear_refs`), so the peak is this phase's."""

    def __init__(self, pid):
        self.pid, self.samples, self.stop = pid, [], threading.Event()
        self.before = status_kb(pid, "VmRSS")
        try:
            with open(f"/proc/{pid}/clear_refs", "w") as f:
                f.write("5")
            self.reset = True
        except OSError:
            self.reset = False
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()

    def sample(self):
        while not self.stop.is_set():
            self.samples.append(status_kb(self.pid, "VmRSS"))
            time.sleep(0.02)

    def end(self):
        self.stop.set()
        self.thread.join()
        self.hwm = status_kb(self.pid, "VmHWM")
        self.peak = max(self.samples + [self.before])
        return self

    def after(self, wait=2.0):
        time.sleep(wait)
        return status_kb(self.pid, "VmRSS")

    def cell(self, after_kb):
        mb = lambda kb: f"{kb / 1024:.0f}"
        hwm = f"VmHWM {mb(self.hwm)} MB" if self.reset else f"VmHWM (lifetime) {mb(self.hwm)} MB"
        return f"peak {mb(max(self.peak, self.hwm if self.reset else 0))} MB", \
            f"before {mb(self.before)} MB, sampled peak VmRSS {mb(self.peak)} MB, {hwm}, 2 s after {mb(after_kb)} MB"


# --- the measurements ---------------------------------------------------------------


def seed(origin, token, directory, n):
    small = open(os.path.join(directory, "small.jpg"), "rb").read()
    c = Client(origin, token)
    for _ in range(n):
        status, _, _ = c.upload(fresh(small))
        if status != 201:
            raise SystemExit(f"seeding: upload answered {status}")


def rendition_paths(asset):
    return [(r["name"], r["url"], r["media_type"]) for r in asset["renditions"]]


def first(origin, token, directory, repeat, asset_file):
    """Upload -> every rendition fetched once, sequentially then in parallel."""
    shots = load_photos(directory)
    seq, par = [], []
    for i in range(repeat):
        data = shots[i % len(shots)]
        # Sequentially: one request at a time, in list order.
        asset, up = upload_new(origin, token, data)
        c = Client(origin)
        times = {}
        t0 = time.monotonic()
        for name, url, mime in rendition_paths(asset):
            status, body, secs = c.request("GET", url)
            if status != 200:
                raise SystemExit(f"{url} answered {status}")
            times[(name, mime)] = secs
        total = up + time.monotonic() - t0
        w1024 = next(u for n, u, m in rendition_paths(asset) if n == "w1024" and m == "image/webp")
        again = min(c.request("GET", w1024)[2] for _ in range(5))
        seq.append({"upload": up, "total": total, "n": len(times), "times": times, "again": again})
        log(f"  sequential {i + 1}: upload {ms(up)}, {len(times)} renditions, all done {ms(total)}")
        # In parallel: every rendition asked for at once.
        asset2, up2 = upload_new(origin, token, data)
        paths = rendition_paths(asset2)
        t0 = time.monotonic()
        got = parallel([(lambda u=u: Client(origin).request("GET", u)) for _, u, _ in paths])
        wall = time.monotonic() - t0
        if any(s != 200 for s, _, _ in got):
            raise SystemExit(f"a rendition answered {[s for s, _, _ in got]}")
        par.append({"upload": up2, "total": up2 + wall, "slowest": max(g[2] for g in got)})
        log(f"  parallel {i + 1}: upload {ms(up2)}, all {len(paths)} at once done {ms(wall)} after it")
        if i == 0:
            with open(asset_file, "w") as f:
                json.dump(asset, f)
    med = lambda xs: statistics.median(xs)
    n = seq[0]["n"]
    one = lambda name, mime: med([s["times"][(name, mime)] for s in seq])
    print(f"| upload of a 12-MP JPEG (POST, 201) | {ms(med([s['upload'] for s in seq + par]))} | "
          f"median of {2 * repeat}; {len(shots[0]) / 1e6:.1f} MB, raw body |")
    print(f"| upload -> all {n} renditions, one request at a time | {ms(med([s['total'] for s in seq]))} | "
          f"median of {repeat}; each derived rendition decodes the original again |")
    print(f"| upload -> all {n} renditions, all requested at once | {ms(med([s['total'] for s in par]))} | "
          f"median of {repeat}; at most DISPATCH_MEDIA_CONCURRENCY made at a time |")
    for name, mime in [("w1024", "image/webp"), ("square", "image/webp"), ("w1024", "image/jpeg"),
                       ("w320", "image/webp"), ("original", "image/jpeg")]:
        if (name, mime) in seq[0]["times"]:
            print(f"| first request of {name} ({mime.split('/')[1]}) | {ms(one(name, mime))} | "
                  f"median of {repeat}, made while nothing else runs |")
    print(f"| w1024.webp once made (one request) | {ms(med([s['again'] for s in seq]))} | from storage |")


def peak(origin, token, directory, pid):
    """Peak RSS: 4 distinct uploads at once; then every rendition of those 4 at once."""
    shots = load_photos(directory)[:4]
    if len(shots) < 4:
        raise SystemExit("peak needs 4 photos")
    mem = Memory(pid)
    t0 = time.monotonic()
    made = parallel([(lambda d=d: upload_new(origin, token, d)) for d in shots])
    wall = time.monotonic() - t0
    mem.end()
    p, note = mem.cell(mem.after())
    print(f"| server RSS, 4 uploads of 12-MP JPEGs at once | {p} | {note}; all 4 done in {ms(wall)} |")
    log(f"  4 uploads: {p} ({note})")
    paths = [u for asset, _ in made for _, u, _ in rendition_paths(asset)]
    mem = Memory(pid)
    t0 = time.monotonic()
    got = parallel([(lambda u=u: Client(origin).request("GET", u)) for u in paths])
    wall = time.monotonic() - t0
    mem.end()
    bad = sum(1 for s, _, _ in got if s != 200)
    p, note = mem.cell(mem.after())
    print(f"| server RSS, the {len(paths)} renditions of those 4 requested at once | {p} | "
          f"{note}; all done in {ms(wall)}{f', **{bad} not 200**' if bad else ''} |")
    log(f"  {len(paths)} renditions: {p} ({note})")


class Readers:
    """List reads at a steady pace (RATE a second per path, over two connections each),
    timing each request; the pace keeps the readers from adding load of their own."""

    PATHS = [("GET /api/v1/media?limit=20 (signed in)", "/api/v1/media?limit=20", True),
             ("GET /api/v1/articles?limit=20", "/api/v1/articles?limit=20", False)]

    def __init__(self, origin, token, rate):
        self.stop, self.lat, self.bad, self.threads = threading.Event(), {}, {}, []
        for label, path, auth in self.PATHS:
            self.lat[label], self.bad[label] = [], 0
            for k in range(2):
                t = threading.Thread(target=self.run, args=(origin, token if auth else None, label, path,
                                                            2.0 / rate, k / rate), daemon=True)
                self.threads.append(t)
        for t in self.threads:
            t.start()

    def run(self, origin, token, label, path, every, offset):
        c = Client(origin, token)
        nxt = time.monotonic() + offset
        while not self.stop.is_set():
            delay = nxt - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            status, _, secs = c.request("GET", path)
            if status == 200:
                self.lat[label].append(secs)
            else:
                self.bad[label] += 1
            nxt = max(nxt + every, time.monotonic())

    def end(self):
        self.stop.set()
        for t in self.threads:
            t.join()
        return self

    def cells(self, label):
        xs = self.lat[label]
        bad = f", **{self.bad[label]} not 200**" if self.bad[label] else ""
        return f"p50 {ms(pct(xs, 50))}, p99 {ms(pct(xs, 99))}", f"max {ms(max(xs))}, {len(xs)} reads{bad}"


def busy(origin, token, directory, pid, seconds, rate):
    """List reads idle, then while 4 uploads loop, then while 4 rendition makers loop."""
    shots = load_photos(directory)
    phases = []

    r = Readers(origin, token, rate)
    time.sleep(seconds)
    phases.append(("idle", r.end(), ""))
    log("  idle reads done")

    made, refused, stop = [], [0], threading.Event()

    def uploader(k):
        c = Client(origin, token)
        i = k
        while not stop.is_set():
            status, asset, _ = c.upload(fresh(shots[i % len(shots)]))
            i += 4
            if status == 201:
                made.append(asset)
            else:
                refused[0] += 1

    mem = Memory(pid)
    r = Readers(origin, token, rate)
    workers = [threading.Thread(target=uploader, args=(k,)) for k in range(4)]
    t0 = time.monotonic()
    for w in workers:
        w.start()
    time.sleep(seconds)
    stop.set()
    for w in workers:
        w.join()
    wall = time.monotonic() - t0
    r.end()
    mem.end()
    p, _ = mem.cell(0)
    phases.append((f"4 uploads at a time ({len(made)} in {wall:.0f} s, {len(made) / wall:.1f}/s"
                   f"{f', {refused[0]} refused' if refused[0] else ''}; {p} RSS)", r, ""))
    log(f"  reads during uploads done: {len(made)} uploads")

    queue = [u for asset in made for name, u, _ in rendition_paths(asset) if name != "original"]
    lock, done, failed, stop = threading.Lock(), [0], [0], threading.Event()

    def maker():
        c = Client(origin)
        while not stop.is_set():
            with lock:
                if not queue:
                    return
                u = queue.pop(0)
            status, _, _ = c.request("GET", u)
            with lock:
                if status == 200:
                    done[0] += 1
                else:
                    failed[0] += 1

    mem = Memory(pid)
    r = Readers(origin, token, rate)
    workers = [threading.Thread(target=maker) for _ in range(4)]
    t0 = time.monotonic()
    for w in workers:
        w.start()
    time.sleep(seconds)
    stop.set()
    for w in workers:
        w.join()
    wall = time.monotonic() - t0
    r.end()
    mem.end()
    p, _ = mem.cell(0)
    phases.append((f"4 renditions made at a time ({done[0]} in {wall:.0f} s, {done[0] / wall:.1f}/s"
                   f"{f', {failed[0]} failed' if failed[0] else ''}; {p} RSS)", r, ""))
    if not queue:
        log("  (the renditions ran out before the time: that phase was shorter)")
    log("  reads during renditions done")

    for label, _, _ in Readers.PATHS:
        for what, rd, _ in phases:
            a, b = rd.cells(label)
            print(f"| {label}, {what} | {a} | {b} |")


def main():
    a = sys.argv[1:]
    if len(a) == 3 and a[0] == "photos":
        photos(a[1], int(a[2]))
    elif len(a) == 5 and a[0] == "seed":
        seed(a[1], a[2], a[3], int(a[4]))
    elif len(a) == 6 and a[0] == "first":
        first(a[1], a[2], a[3], int(a[4]), a[5])
    elif len(a) == 5 and a[0] == "peak":
        peak(a[1], a[2], a[3], int(a[4]))
    elif len(a) == 7 and a[0] == "busy":
        busy(a[1], a[2], a[3], int(a[4]), float(a[5]), float(a[6]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
