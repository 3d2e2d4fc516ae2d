#!/usr/bin/env python3
"""The webhook receiver of bench/webhooks: verifies each delivery's Standard Webhooks
signature, records the lag from the event's `occurred_at` to its arrival, and
answers 204. `GET /stats` returns what it saw as JSON (count, distinct ids,
duplicates, bad signatures, lag percentiles in ms).

    WEBHOOK_SECRET=whsec_... python3 bench/receiver.py PORT
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
lags, seen = [], set()
stats = {"received": 0, "duplicates": 0, "bad_signatures": 0}


def key():
    secret = os.environ.get("WEBHOOK_SECRET", "")
    return base64.b64decode(secret.removeprefix("whsec_")) if secret else None


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b""):
        self.send_response(status)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        arrived = time.time()
        k = key()
        if k is not None:
            msg_id, ts = self.headers["webhook-id"], self.headers["webhook-timestamp"]
            mac = hmac.new(k, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
            expected = "v1," + base64.b64encode(mac).decode()
            if not any(hmac.compare_digest(expected, s) for s in self.headers["webhook-signature"].split()):
                with lock:
                    stats["bad_signatures"] += 1
                return self.answer(401)
        event = json.loads(body)
        occurred = datetime.fromisoformat(event["occurred_at"]).timestamp()
        with lock:
            stats["received"] += 1
            if event["id"] in seen:
                stats["duplicates"] += 1
            else:
                seen.add(event["id"])
                lags.append((arrived - occurred) * 1000)
        self.answer(204)

    def do_GET(self):
        with lock:
            ordered = sorted(lags)
            out = dict(stats, distinct=len(seen))
        pick = lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else None
        out.update(lag_p50_ms=pick(0.50), lag_p99_ms=pick(0.99), lag_max_ms=round(ordered[-1], 1) if ordered else None)
        self.answer(200, json.dumps(out).encode())


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Receiver).serve_forever()
