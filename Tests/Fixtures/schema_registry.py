#!/usr/bin/env python3
"""A small Confluent-compatible schema registry for tests: GET /schemas/ids/{id} answers
{"schema": "<json>"} for the lsst-alert-packet tree (id = 100*major + minor), 404 with error_code
40403 otherwise; optional basic auth (401 without it); GET /requests counts the schema requests
served, so a test can see the client's cache at work. Prints its port on the first line."""
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
        major, minor = divmod(sid, 100)
        path = os.path.join(args.schema_root, str(major), str(minor), f"lsst.v{major}_{minor}.alert.avsc")
        if not os.path.exists(path):
            return self.reply(404, {"error_code": 40403, "message": "Schema not found"})
        return self.reply(200, {"schema": to_parsing_canonical_form(load_schema(path))})


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
