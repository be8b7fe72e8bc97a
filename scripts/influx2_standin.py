#!/usr/bin/env python3
"""The InfluxDB 2 API parts the tests need, in front of a real InfluxDB 1.6.7 (which has none of them).

nginx sends /api/v2/write and /api/v2/buckets here; everything else goes straight to influxd.

What it does like InfluxDB 2 (and so what the tests can prove against it):
- a token is required: anything but `Authorization: Token <FI_STANDIN_TOKEN>` is 401 "unauthorized access";
- one organisation exists (FI_STANDIN_ORG); another name is 404 "organization name ... not found";
- a bucket is a 1.6.7 database; an unknown one is 404 `bucket "x" not found` on write and absent from
  `GET /api/v2/buckets?name=x` (200 with no buckets), as InfluxDB 2 answers;
- a write without any line is 400 "writing requires points" (1.6.7 accepts it; InfluxDB 2 does not);
- points that conflict with stored field types are 422 "unprocessable entity" (1.6.7: 400);
- `POST /api/v2/delete` with `{start, stop, predicate}` (tag = "value" terms joined by AND, both
  times inclusive) deletes as InfluxDB 2 does, through 1.6.7's `DELETE … WHERE`; 204 on success;
- errors are InfluxDB 2's `{"code": …, "message": …}` bodies.
What it does not prove: retention, tokens scoped to one bucket, the Flux API, InfluxDB 2's own storage.
"""

import http.server
import json
import os
import socketserver
import sys
import urllib.error
import urllib.parse
import urllib.request
import zlib

INFLUXD = os.environ["FI_STANDIN_INFLUXD"]  # e.g. http://127.0.0.1:18086
TOKEN = os.environ.get("FI_STANDIN_TOKEN", "test-token")
ORG = os.environ.get("FI_STANDIN_ORG", "home")
ORG_ID = "0a1b2c3d4e5f6071"


def bucket_id(name):
    return "%016x" % (zlib.crc32(name.encode()) * 2654435761 % (1 << 64))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_):
        pass

    def answer(self, status, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def authorised(self):
        if self.headers.get("Authorization", "") != "Token " + TOKEN:
            self.answer(401, {"code": "unauthorized", "message": "unauthorized access"})
            return False
        return True

    def org_known(self, org):
        if org != ORG:
            self.answer(404, {"code": "not found", "message": 'organization name "%s" not found' % org})
            return False
        return True

    def databases(self):
        q = urllib.parse.urlencode({"q": "SHOW DATABASES"})
        with urllib.request.urlopen(INFLUXD + "/query?" + q, timeout=30) as r:
            series = json.load(r)["results"][0].get("series", [])
        return [v[0] for s in series for v in s.get("values", [])]

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        args = dict(urllib.parse.parse_qsl(url.query))
        if url.path != "/api/v2/buckets":
            return self.answer(404, {"code": "not found", "message": "path not found"})
        if not self.authorised():
            return
        if "org" in args and not self.org_known(args["org"]):
            return
        names = [d for d in self.databases() if d != "_internal"]
        if "name" in args:
            names = [d for d in names if d == args["name"]]
        buckets = [
            {"id": bucket_id(n), "orgID": ORG_ID, "type": "user", "name": n, "retentionRules": [],
             "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z",
             "links": {"self": "/api/v2/buckets/" + bucket_id(n), "org": "/api/v2/orgs/" + ORG_ID}}
            for n in names
        ]
        self.answer(200, {"links": {"self": "/api/v2/buckets?" + url.query}, "buckets": buckets})

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        args = dict(urllib.parse.parse_qsl(url.query))
        body = self.body()
        if url.path == "/api/v2/delete":
            return self.delete(args, body)
        if url.path != "/api/v2/write":
            return self.answer(404, {"code": "not found", "message": "path not found"})
        if not self.authorised():
            return
        if not self.org_known(args.get("org", "")):
            return
        gzipped = self.headers.get("Content-Encoding", "") == "gzip"
        head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body, 65536) if gzipped else body[:65536]
        if not head.strip():
            return self.answer(400, {"code": "invalid", "message": "writing requires points"})
        bucket = args.get("bucket", "")
        q = urllib.parse.urlencode({"db": bucket, "precision": args.get("precision", "ns")})
        req = urllib.request.Request(INFLUXD + "/write?" + q, data=body, method="POST")
        if gzipped:
            req.add_header("Content-Encoding", "gzip")
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                r.read()
                return self.answer(204)
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", "replace")
            try:
                message = json.loads(text).get("error", text)
            except ValueError:
                message = text
            if e.code == 404 and "database not found" in message:
                return self.answer(404, {"code": "not found", "message": 'bucket "%s" not found' % bucket})
            if e.code == 400 and "partial write" in message:
                # InfluxDB 2 rejects points that conflict with the schema with 422.
                return self.answer(422, {"code": "unprocessable entity", "message": message})
            code = {400: "invalid", 401: "unauthorized", 413: "request too large"}.get(e.code, "internal error")
            return self.answer(e.code, {"code": code, "message": message})


    def delete(self, args, body):
        if not self.authorised() or not self.org_known(args.get("org", "")):
            return
        try:
            request = json.loads(body)
            terms = [t.strip() for t in (request.get("predicate") or "").split(" AND ") if t.strip()]
            pairs = [t.split("=", 1) for t in terms]
            where = {k.strip(): v.strip().strip('"') for k, v in pairs}
        except (ValueError, AttributeError):
            return self.answer(400, {"code": "invalid", "message": "invalid request"})
        measurement = where.pop("_measurement", None)
        clauses = ["\"%s\" = '%s'" % (k, v.replace("'", "\\'")) for k, v in where.items()]
        clauses.append("time >= '%s' AND time <= '%s'" % (request["start"], request["stop"]))
        statement = "DELETE %s WHERE %s" % (
            'FROM "%s"' % measurement if measurement else "", " AND ".join(clauses))
        q = urllib.parse.urlencode({"db": args.get("bucket", ""), "q": statement})
        req = urllib.request.Request(INFLUXD + "/query", data=q.encode(), method="POST")
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
        with urllib.request.urlopen(req, timeout=120) as r:
            answer = json.loads(r.read() or b"{}")
        error = next((x["error"] for x in answer.get("results", []) if "error" in x), None)
        if error:
            status = 404 if "database not found" in error else 400
            return self.answer(status, {"code": "invalid", "message": error})
        return self.answer(204)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
