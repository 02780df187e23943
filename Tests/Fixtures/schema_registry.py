#!/usr/bin/env python3
"""A small Confluent-compatible schema registry for tests: GET /schemas/ids/{id} answers
{"schema": "<json>"} for the lsst-alert-packet tree (id = 100*major + minor), 404 with error_code
40403 otherwise; optional basic auth (401 without it); GET /requests counts the schema requests
served, so a test can see the client's cache at work. POST /subjects/{subject}/versions
{"schema": "<json>"} registers a schema (Content-Type application/vnd.schemaregistry.v1+json or
application/json; 422 with error_code 42201 when fastavro cannot parse it) and answers {"id": N}, the
same id for the same canonical schema; GET /schemas/ids/{id} then serves it. Prints its port on the
first line."""
import argparse, base64, json, os, re, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import fastavro
from fastavro.schema import load_schema, to_parsing_canonical_form

ap = argparse.ArgumentParser()
ap.add_argument("--schema-root", required=True)
ap.add_argument("--user")
ap.add_argument("--password")
args = ap.parse_args()
count = 0
registered = {}   # id -> canonical schema
next_id = [1000]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def authorised(self):
        if not args.user:
            return True
        expected = "Basic " + base64.b64encode(f"{args.user}:{args.password}".encode()).decode()
        return self.headers.get("Authorization") == expected

    def do_POST(self):
        m = re.fullmatch(r"/subjects/([^/]+)/versions", self.path)
        if not m:
            return self.reply(404, {"error_code": 404, "message": "HTTP 404 Not Found"})
        if not self.authorised():
            return self.reply(401, {"error_code": 401, "message": "Unauthorized"})
        if (self.headers.get("Content-Type") or "").split(";")[0] not in ("application/vnd.schemaregistry.v1+json", "application/json"):
            return self.reply(415, {"error_code": 415, "message": "Unsupported Media Type"})
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        try:
            canonical = to_parsing_canonical_form(fastavro.parse_schema(json.loads(body["schema"])))
        except Exception as e:
            return self.reply(422, {"error_code": 42201, "message": f"Invalid schema: {e}"})
        for sid, text in registered.items():
            if text == canonical:
                return self.reply(200, {"id": sid})
        next_id[0] += 1
        registered[next_id[0]] = canonical
        return self.reply(200, {"id": next_id[0]})

    def do_GET(self):
        global count
        if self.path == "/requests":
            return self.reply(200, {"count": count})
        m = re.fullmatch(r"/schemas/ids/(\d+)", self.path)
        if not m:
            return self.reply(404, {"error_code": 404, "message": "HTTP 404 Not Found"})
        count += 1
        if args.user:
            expected = "Basic " + base64.b64encode(f"{args.user}:{args.password}".encode()).decode()
            if self.headers.get("Authorization") != expected:
                return self.reply(401, {"error_code": 401, "message": "Unauthorized"})
        sid = int(m.group(1))
        if sid in registered:
            return self.reply(200, {"schema": registered[sid]})
        major, minor = divmod(sid, 100)
        path = os.path.join(args.schema_root, str(major), str(minor), f"lsst.v{major}_{minor}.alert.avsc")
        if not os.path.exists(path):
            return self.reply(404, {"error_code": 40403, "message": "Schema not found"})
        return self.reply(200, {"schema": to_parsing_canonical_form(load_schema(path))})


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
