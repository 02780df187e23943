#!/usr/bin/env python3
"""A strict fake of the Zooniverse Panoptes API, for tests: the endpoints citsci uses, answering as
Panoptes does (JSON:API documents, ETags) and refusing what Panoptes refuses.

Strict on every /api request: Accept must be `application/vnd.api+json; version=1` (404 otherwise),
a valid unexpired bearer token (401), a JSON Content-Type on bodies (415), If-Match on updates
(PUT of a resource: 428 missing, 412 stale; not on link removal, as Panoptes' PreconditionCheck),
request bodies checked against the shapes Panoptes accepts (422), the user's subject limit on
POST /api/subjects (403), at most 100 ids per link request (422). Uniqueness as Panoptes' models
validate it, answered 400 as its RecordInvalid handler does: a set's display name per project, a
set on a workflow once, a subject in a set once (the whole link request fails). Removing a link that
is not there is 404. Sign-in rotates the session cookie (the user is in the new one only); the
password grant takes `login`/`password` or that cookie; OAuth errors are doorkeeper's
{"error", "error_description"} (invalid_client 401, the others 400).

Signed uploads: POST /api/subjects answers one signed URL per location, /uploads/<key>?se=<expiry>&sig=<hmac>;
a PUT there must carry the bound Content-Type, `x-ms-blob-type: BlockBlob`, no Authorization, an
unexpired signature and a body (a PNG must start with the PNG signature); 403 otherwise, as Azure.

Test control (no auth): GET /__admin/state (everything, as JSON), GET /__admin/log (requests seen, each
with the number of the connection that carried it: the server keeps connections alive),
GET /__admin/times (when each subject was created and joined each set, server clock),
GET /__admin/sets (the subject sets alone: cheap to poll while subjects pile up),
POST /__admin/config (subject_limit, token_ttl, url_ttl, clock_offset (seconds added to the server's clock,
so a test moves past an expiry without waiting), completeness {set_id: {wf: f}}),
POST /__admin/faults {"faults":[{"method":"POST","path":"^/api/subjects$","kind":"500|429|slow|drop|drop_after","count":1,
"retry_after":1,"delay":2}]}. Prints its port on the first line of stdout."""
import argparse, hashlib, hmac, json, re, sys, threading, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

def now():
    """The server's clock: expiries (tokens, upload URLs) are judged by it."""
    return time.time() + state["config"].get("clock_offset", 0)


ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--client-id", default="test-client")
ap.add_argument("--client-secret", default="test-secret")
ap.add_argument("--login", default="pi")
ap.add_argument("--password", default="hunter2")
ap.add_argument("--subject-limit", type=int, default=10000)
args = ap.parse_args()

API_ACCEPT = "application/vnd.api+json; version=1"
JSON_TYPES = ("application/json", "application/vnd.api+json; version=1", "application/vnd.api+json")
ALLOWED_MIME = {"image/jpeg", "image/png", "image/gif", "image/svg+xml", "audio/mpeg", "video/mp4", "audio/mp4",
                "video/mpeg", "text/plain", "application/json"}
SECRET = b"fake-azure-key"
lock = threading.RLock()
blob_bytes = {}  # key -> the uploaded bytes (kept out of /__admin/state)
subject_times = {}  # subject id -> {"created": t, "sets": {set id: t}}: server clock, for latency benchmarks

state = {
    "next_id": 1000,
    "tokens": {},            # access token -> expiry
    "refresh": {},           # refresh token -> login
    "sessions": {},          # session cookie -> csrf / user
    "user": {"id": "7", "login": args.login, "subject_limit": args.subject_limit, "uploaded_subjects_count": 0},
    "projects": {"43": {"id": "43", "slug": "pi/alerts", "display_name": "Alert vetting", "links": {"workflows": ["47", "48"], "subject_sets": []}}},
    "workflows": {"47": {"id": "47", "display_name": "Real or bogus?", "version": "12.3",
                         "tasks": {"T0": {"type": "single", "question": "T0.question",
                                          "answers": [{"label": "T0.answers.0.label"}, {"label": "T0.answers.1.label"}]},
                                   "T1": {"type": "multiple", "question": "T1.question",
                                          "answers": [{"label": "T1.answers.0.label"}, {"label": "T1.answers.1.label"},
                                                      {"label": "T1.answers.2.label"}]}},
                         "strings": {"T0.question": "Is this a real astrophysical transient?", "T0.answers.0.label": "Real",
                                     "T0.answers.1.label": "Bogus", "T1.question": "What do you see?",
                                     "T1.answers.0.label": "Point source", "T1.answers.1.label": "Galaxy",
                                     "T1.answers.2.label": "Artefact"},
                         "links": {"project": "43", "subject_sets": []}},
                  "48": {"id": "48", "display_name": "Variable or not?", "version": "3.1",
                         "tasks": {"T0": {"type": "single", "question": "Variable?", "answers": [{"label": "Yes"}, {"label": "No"}]}},
                         "links": {"project": "43", "subject_sets": []}}},
    "subject_sets": {},
    "subjects": {},
    "blobs": {},             # key -> {"content_type", "size", "sha256", "head"}
    "config": {"token_ttl": 7200, "url_ttl": 1200, "completeness": {}, "export_delay": 0.5, "clock_offset": 0},
    "exports": {},           # project id -> {"requested_at", "key"}
    "faults": [],
    "memberships": {},       # "set/subject" -> set_member_subject id
    "log": [],
    "classifications": [],   # as the API lists them, ascending id
}


def as_id(v):
    """An id as Panoptes' JSON schemas take it ("string", "integer"), normalised to a string; None otherwise."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int) and v > 0:
        return str(v)
    if isinstance(v, str) and v.isdigit():
        return v
    return None


def new_id():
    state["next_id"] += 1
    return str(state["next_id"])


def etag_of(resource):
    return '"' + hashlib.md5(json.dumps(resource, sort_keys=True).encode()).hexdigest() + '"'


def sign(key, expiry, mime):
    return hmac.new(SECRET, f"{key}|{expiry}|{mime}".encode(), hashlib.sha256).hexdigest()[:32]


class OAuthError(Exception):
    """Doorkeeper's error answer: {"error": ..., "error_description": ...}; invalid_client is 401,
    the other grant errors 400 (RFC 6749 section 5.2)."""
    def __init__(self, error, description):
        self.status = 401 if error == "invalid_client" else 400
        self.error, self.description = error, description


class Reject(Exception):
    def __init__(self, status, message, headers=None):
        self.status, self.message, self.headers = status, message, headers or {}


class Handler(BaseHTTPRequestHandler):
    # Keep-alive, as Panoptes behind its proxy answers: a client may send many requests on one
    # connection, and the log says which connection carried each.
    protocol_version = "HTTP/1.1"
    # As Puma and nginx do: with keep-alive, Nagle's algorithm would hold each answer's body until
    # the client's delayed ACK of its headers (40 ms a request).
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        with lock:
            state["connections"] = state.get("connections", 0) + 1
            self.connection_number = state["connections"]

    def log_message(self, *a):
        pass

    # ---- plumbing
    def send(self, status, body=None, headers=None, content_type="application/vnd.api+json; charset=utf-8"):
        data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if data:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def json_body(self, raw):
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if self.headers.get("Content-Type") not in JSON_TYPES and ctype != "application/json":
            raise Reject(415, "Content-Type must be application/json")
        try:
            return json.loads(raw or b"null")
        except ValueError as e:
            raise Reject(400, f"body is not JSON: {e}")

    def handle_any(self, method):
        url = urlparse(self.path)
        path, query = url.path, {k: v[0] for k, v in parse_qs(url.query).items()}
        raw = self.body()
        with lock:
            state["log"].append({"method": method, "path": path, "query": query, "time": time.time(),
                                 "authorization": bool(self.headers.get("Authorization")),
                                 "connection": self.connection_number})
            fault = None
            if not path.startswith("/__admin"):
                for f in state["faults"]:
                    if f["count"] > 0 and f.get("method", method) == method and re.search(f["path"], path):
                        f["count"] -= 1
                        fault = dict(f)
                        break
        if fault:
            kind = fault["kind"]
            if kind == "slow":
                time.sleep(fault.get("delay", 2))
            elif kind == "drop":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            elif kind == "429":
                return self.send(429, {"errors": [{"message": "Too many requests"}]},
                                 {"Retry-After": str(fault.get("retry_after", 1))})
            elif kind in ("500", "502", "503"):
                return self.send(int(kind), {"errors": [{"message": "Internal server error (injected)"}]})
        try:
            with lock:
                status, body, headers, ctype = self.route(method, path, query, raw)
        except Reject as r:
            return self.send(r.status, {"errors": [{"message": r.message}]}, r.headers)
        except OAuthError as e:
            return self.send(e.status, {"error": e.error, "error_description": e.description}, {}, "application/json; charset=utf-8")
        if fault and fault["kind"] == "drop_after":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.send(status, body, headers, ctype or "application/vnd.api+json; charset=utf-8")

    def do_GET(self): self.handle_any("GET")
    def do_POST(self): self.handle_any("POST")
    def do_PUT(self): self.handle_any("PUT")
    def do_DELETE(self): self.handle_any("DELETE")

    # ---- routing
    def route(self, method, path, query, raw):
        if path.startswith("/__admin/"):
            return self.admin(method, path, raw)
        if path == "/oauth/token" and method == "POST":
            return self.oauth(raw)
        if path == "/users/sign_in":
            return self.sign_in(method, raw)
        if path.startswith("/uploads/"):
            return self.upload(method, path, query, raw)
        if not path.startswith("/api/"):
            raise Reject(404, "not found")
        if self.headers.get("Accept") != API_ACCEPT:
            raise Reject(404, "Not found (Accept must be application/vnd.api+json; version=1)")
        auth = self.headers.get("Authorization") or ""
        token = auth[7:] if auth.startswith("Bearer ") else None
        if token is None or token not in state["tokens"]:
            raise Reject(401, "You must be logged in to access this resource.")
        if state["tokens"][token] < now():
            raise Reject(401, "The access token expired")
        doc = self.json_body(raw) if method in ("POST", "PUT") else None
        parts = path[len("/api/"):].strip("/").split("/")
        return self.api(method, parts, query, doc)

    def admin(self, method, path, raw):
        if path == "/__admin/state":
            return 200, {k: state[k] for k in ("user", "projects", "workflows", "subject_sets", "subjects", "blobs", "config")}, {}, "application/json"
        if path == "/__admin/sets":
            return 200, state["subject_sets"], {}, "application/json"
        if path == "/__admin/log":
            return 200, state["log"], {}, "application/json"
        if path == "/__admin/times":
            return 200, subject_times, {}, "application/json"
        doc = json.loads(raw or b"{}")
        if path == "/__admin/config":
            for k, v in doc.items():
                if k == "subject_limit":
                    state["user"]["subject_limit"] = v
                elif k == "uploaded_subjects_count":
                    state["user"]["uploaded_subjects_count"] = v
                else:
                    state["config"][k] = v
            return 200, {"ok": True}, {}, "application/json"
        if path == "/__admin/classifications":
            for c in doc.get("classifications", []):
                if not any(x["id"] == str(c["id"]) for x in state["classifications"]):
                    c = dict(c, id=str(c["id"]))
                    state["classifications"].append(c)
            state["classifications"].sort(key=lambda c: int(c["id"]))
            return 200, {"ok": True, "count": len(state["classifications"])}, {}, "application/json"
        if path == "/__admin/faults":
            state["faults"] = [dict(f) for f in doc.get("faults", [])]
            return 200, {"ok": True}, {}, "application/json"
        raise Reject(404, "no such admin path")

    # ---- auth
    def oauth(self, raw):
        ctype = (self.headers.get("Content-Type") or "").split(";")[0]
        if ctype == "application/x-www-form-urlencoded":
            form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        elif ctype == "application/json":
            form = json.loads(raw)
        else:
            raise Reject(415, "unsupported content type for /oauth/token")
        grant = form.get("grant_type")
        if grant == "client_credentials":
            if form.get("client_id") != args.client_id or form.get("client_secret") != args.client_secret:
                raise OAuthError("invalid_client", "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.")
        elif grant == "password":
            if form.get("client_id") != args.client_id:
                raise OAuthError("invalid_client", "Client authentication failed due to unknown client.")
            # As config/initializers/doorkeeper.rb: `login` and `password` in the form, or else the
            # user of the session the cookie carries (the one sign-in set; the cookie from before
            # sign-in carries no user).
            if form.get("login") is not None:
                ok = form.get("login") == args.login and form.get("password") == args.password
            else:
                cookie = self.headers.get("Cookie") or ""
                m = re.search(r"_Panoptes_session=([0-9a-f]+)", cookie)
                ok = bool(m) and state["sessions"].get(m.group(1), {}).get("user") == args.login
            if not ok:
                raise OAuthError("invalid_grant", "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.")
        elif grant == "refresh_token":
            if form.get("refresh_token") not in state["refresh"]:
                raise OAuthError("invalid_grant", "The provided authorization grant is invalid, expired, revoked.")
            del state["refresh"][form["refresh_token"]]
        else:
            raise OAuthError("unsupported_grant_type", "The authorization grant type is not supported by the authorization server.")
        token, refresh = uuid.uuid4().hex, uuid.uuid4().hex
        ttl = state["config"]["token_ttl"]
        state["tokens"][token] = now() + ttl
        state["refresh"][refresh] = args.login
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": ttl, "refresh_token": refresh,
                     "scope": "user project subject", "created_at": int(time.time())}, {}, "application/json"

    def sign_in(self, method, raw):
        if method == "GET":
            session, csrf = uuid.uuid4().hex, uuid.uuid4().hex
            state["sessions"][session] = {"csrf": csrf}
            return 200, {}, {"x-csrf-token": csrf, "Set-Cookie": f"_Panoptes_session={session}; path=/; HttpOnly"}, "application/json"
        doc = json.loads(raw or b"{}")
        m = re.search(r"_Panoptes_session=([0-9a-f]+)", self.headers.get("Cookie") or "")
        if not m or m.group(1) not in state["sessions"] or doc.get("authenticity_token") != state["sessions"][m.group(1)]["csrf"]:
            raise Reject(422, "Can't verify CSRF token authenticity")
        user = doc.get("user") or {}
        if user.get("login") != args.login or user.get("password") != args.password:
            raise Reject(401, "Invalid login or password.")
        # Rails keeps the session in the cookie itself: signing in writes a new cookie that carries
        # the user (and a new CSRF token); the cookie from before sign-in still carries none.
        signed, csrf = uuid.uuid4().hex, uuid.uuid4().hex
        state["sessions"][signed] = {"csrf": csrf, "user": args.login}
        return 200, {"users": [{"id": state["user"]["id"], "login": args.login}]}, \
            {"x-csrf-token": csrf, "Set-Cookie": f"_Panoptes_session={signed}; path=/; HttpOnly"}, "application/json"

    # ---- uploads (the Azure blob side)
    def upload(self, method, path, query, raw):
        key = path[len("/uploads/"):]
        blob = state["blobs"].get(key)
        if method == "GET":
            if not blob or "sha256" not in blob:
                raise Reject(404, "BlobNotFound")
            if key.startswith("exports/") and any(e["key"] == key and time.time() - e["requested_at"] < state["config"]["export_delay"]
                                                  for e in state["exports"].values()):
                raise Reject(404, "BlobNotFound (the export is still being made)")
            return 200, blob_bytes[key], {}, blob["content_type"]
        if method != "PUT":
            raise Reject(405, "method not allowed")
        if blob is None:
            raise Reject(403, "AuthenticationFailed: no such upload location")
        if self.headers.get("Authorization"):
            raise Reject(400, "InvalidAuthenticationInfo: a SAS URL takes no Authorization header")
        expiry = query.get("se")
        if not expiry or query.get("sig") != sign(key, expiry, blob["content_type"]):
            raise Reject(403, "AuthenticationFailed: signature did not match")
        if float(expiry) < now():
            raise Reject(403, "AuthenticationFailed: Signed expiry time has passed")
        if self.headers.get("x-ms-blob-type") != "BlockBlob":
            raise Reject(400, "MissingRequiredHeader: x-ms-blob-type")
        if self.headers.get("Content-Type") != blob["content_type"]:
            raise Reject(403, "AuthenticationFailed: Content-Type does not match the signature")
        if not raw:
            raise Reject(400, "InvalidInput: empty body")
        if blob["content_type"] == "image/png" and not raw.startswith(b"\x89PNG\r\n\x1a\n"):
            raise Reject(400, "InvalidInput: not a PNG")
        if blob["content_type"] == "application/json":
            try:
                json.loads(raw)
            except ValueError:
                raise Reject(400, "InvalidInput: not JSON")
        blob_bytes[key] = raw
        blob.update({"size": len(raw), "sha256": hashlib.sha256(raw).hexdigest(), "uploads": blob.get("uploads", 0) + 1})
        return 201, None, {"ETag": '"0x' + uuid.uuid4().hex[:16] + '"'}, None

    def signed_locations(self, mimes):
        ttl = state["config"]["url_ttl"]
        host = self.headers.get("Host")
        out = []
        for mime in mimes:
            ext = {"image/png": "png", "image/jpeg": "jpeg", "application/json": "json"}.get(mime, "bin")
            key = f"subject_location/{uuid.uuid4()}.{ext}"
            expiry = f"{now() + ttl:.3f}"
            state["blobs"][key] = {"content_type": mime}
            out.append({mime: f"http://{host}/uploads/{key}?se={expiry}&sig={sign(key, expiry, mime)}"})
        return out

    # ---- the API
    def check_if_match(self, resource):
        given = self.headers.get("If-Match")
        if not given:
            raise Reject(428, "Precondition Required: If-Match header missing")
        if given != etag_of(resource):
            raise Reject(412, "Precondition Failed: the resource changed")

    def one(self, kind, resource):
        return 200, {kind: [resource], "links": {}, "meta": {}}, {"ETag": etag_of(resource)}, None

    def page(self, kind, items, query):
        size = int(query.get("page_size", 20))
        if size < 1 or size > 100:
            raise Reject(422, "page_size must be 1 to 100")
        page = int(query.get("page", 1))
        chunk = items[(page - 1) * size: page * size]
        count = len(items)
        pages = max(1, (count + size - 1) // size)
        meta = {"page": page, "page_size": size, "count": count, "page_count": pages,
                "next_page": page + 1 if page < pages else None, "previous_page": page - 1 if page > 1 else None}
        return 200, {kind: chunk, "links": {}, "meta": {kind: meta}}, {"ETag": etag_of(chunk)}, None

    def project_of(self, pid):
        p = state["projects"].get(str(pid))
        if not p:
            raise Reject(404, f"Could not find project with id='{pid}'")
        return p

    def set_view(self, s):
        view = dict(s)
        view["completeness"] = state["config"]["completeness"].get(s["id"], {wf: 0.0 for wf in s["links"]["workflows"]})
        return view

    def api(self, method, parts, query, doc):
        head = parts[0]
        if head == "me" and method == "GET":
            return self.one("users", state["user"])
        if head == "projects" and len(parts) == 3 and parts[2] == "classifications_export":
            return self.classifications_export(method, self.project_of(parts[1]), doc)
        if head == "projects" and method == "GET":
            if len(parts) == 2:
                return self.one("projects", self.project_of(parts[1]))
            items = [p for p in state["projects"].values() if "slug" not in query or p["slug"] == query["slug"]]
            return self.page("projects", items, query)
        if head == "workflows":
            wf = state["workflows"].get(parts[1]) if len(parts) > 1 else None
            if len(parts) > 1 and not wf:
                raise Reject(404, f"Could not find workflow with id='{parts[1]}'")
            if method == "GET" and len(parts) == 2:
                return self.one("workflows", wf)
            if method == "POST" and parts[2:] == ["retired_subjects"]:
                # As panoptes-client's Workflow.retire_subjects: {"subject_ids": [...], "retirement_reason": ...}
                if not isinstance(doc, dict) or not isinstance(doc.get("subject_ids"), list) or not doc["subject_ids"]:
                    raise Reject(422, 'body must be {"subject_ids": ["id", ...], "retirement_reason": "..."}')
                reason = doc.get("retirement_reason", "other")
                if reason not in ("classification_count", "flagged", "nothing_here", "consensus", "other"):
                    raise Reject(422, f"retirement_reason {reason!r} is not one Panoptes knows")
                for sid in doc["subject_ids"]:
                    if str(sid) not in state["subjects"]:
                        raise Reject(422, f"subject {sid} not found")
                    wf.setdefault("retired", {})[str(sid)] = reason
                return 204, None, {}, None
            if method == "POST" and parts[2:] == ["links", "subject_sets"]:
                ids = self.link_ids(doc, "subject_sets")
                for sid in ids:
                    s = state["subject_sets"].get(sid)
                    if not s:
                        raise Reject(422, f"subject set {sid} not found")
                    if s["links"]["project"] != wf["links"]["project"]:
                        raise Reject(422, "subject set belongs to another project")
                    # SubjectSetsWorkflow validates_uniqueness_of :workflow_id, scope: :subject_set_id:
                    # the whole request fails (one transaction) with RecordInvalid, 400.
                    if sid in wf["links"]["subject_sets"]:
                        raise Reject(400, "Validation failed: Workflow has already been taken")
                for sid in ids:
                    wf["links"]["subject_sets"].append(sid)
                    state["subject_sets"][sid]["links"]["workflows"].append(wf["id"])
                return self.one("workflows", wf)
        if head == "subject_sets":
            return self.subject_sets(method, parts, query, doc)
        if head == "classifications" and method == "GET" and parts[1:] == ["project"]:
            return self.project_classifications(query)
        if head == "subjects":
            return self.subjects(method, parts, query, doc)
        if head == "set_member_subjects" and method == "GET" and len(parts) == 1:
            return self.set_member_subjects(query)
        raise Reject(404, "Not found")

    def set_member_subjects(self, query):
        """GET /api/set_member_subjects?subject_set_id=&subject_id= (what panoptes-client asks before it
        adds or removes a link): one record per membership, {id, priority, links: {subject, subject_set}}."""
        items = []
        for s in state["subject_sets"].values():
            if "subject_set_id" in query and s["id"] != query["subject_set_id"]:
                continue
            for i in s["links"]["subjects"]:
                if "subject_id" in query and i != query["subject_id"]:
                    continue
                key = f"{s['id']}/{i}"
                sms_id = state["memberships"].setdefault(key, new_id())
                items.append({"id": sms_id, "priority": None, "links": {"subject": i, "subject_set": s["id"]}})
        return self.page("set_member_subjects", items, query)

    def classifications_export(self, method, project, doc):
        """POST asks for a new export (once a day, as Zooniverse's dump workers allow; a second request
        within 24 h is refused with 429 here, where Zooniverse silently cancels it); GET describes the
        latest: media[0].src (a blob URL, no auth) and metadata.state (creating, then ready)."""
        pid = project["id"]
        if method == "POST":
            if doc != {"media": {"content_type": "text/csv"}}:
                raise Reject(422, 'body must be {"media": {"content_type": "text/csv"}}')
            last = state["exports"].get(pid)
            if last and time.time() - last["requested_at"] < 86400:
                raise Reject(429, "Classification exports can be requested once every 24 hours")
            key = f"exports/{uuid.uuid4()}.csv"
            state["exports"][pid] = {"requested_at": time.time(), "key": key}
            blob_bytes[key] = self.export_csv(pid)
            state["blobs"][key] = {"content_type": "text/csv", "sha256": hashlib.sha256(blob_bytes[key]).hexdigest()}
            return 201, {"media": [self.export_media(pid)]}, {}, None
        if method == "GET":
            if pid not in state["exports"]:
                return 200, {"media": []}, {}, None
            return 200, {"media": [self.export_media(pid)]}, {}, None
        raise Reject(405, "method not allowed")

    def export_media(self, pid):
        e = state["exports"][pid]
        ready = time.time() - e["requested_at"] >= state["config"]["export_delay"]
        host = self.headers.get("Host")
        return {"id": "9" + pid, "content_type": "text/csv", "src": f"http://{host}/uploads/{e['key']}",
                "metadata": {"state": "ready" if ready else "creating"},
                "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(e["requested_at"]))}

    def export_csv(self, pid):
        """The project's classifications in the export's columns, answers as labels."""
        import csv, io
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["classification_id", "user_name", "user_id", "user_ip", "workflow_id", "workflow_name", "workflow_version",
                    "created_at", "gold_standard", "expert", "metadata", "annotations", "subject_data", "subject_ids"])
        for c in state["classifications"]:
            if c["links"]["project"] != pid:
                continue
            wf = state["workflows"][c["links"]["workflow"]]
            strings = wf.get("strings", {})
            annotations = []
            for a in c["annotations"]:
                task = wf["tasks"].get(a["task"], {})
                labels = [strings.get(x["label"], x["label"]) for x in task.get("answers", [])]
                lab = lambda v: labels[v] if isinstance(v, int) and 0 <= v < len(labels) else v
                value = [lab(v) for v in a["value"]] if isinstance(a["value"], list) else lab(a["value"])
                annotations.append({"task": a["task"], "task_label": strings.get(task.get("question", ""), ""), "value": value})
            user = c["links"].get("user")
            ip = hashlib.md5(str(c["id"]).encode()).hexdigest()[:20]
            subject_data = {sid: dict({"retired": None}, **state["subjects"].get(sid, {}).get("metadata", {}))
                            for sid in c["links"]["subjects"]}
            created = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.strptime(c["created_at"][:19], "%Y-%m-%dT%H:%M:%S"))
            w.writerow([c["id"], f"volunteer{user}" if user else f"not-logged-in-{ip}", user or "", ip, wf["id"], wf["display_name"],
                        c.get("metadata", {}).get("workflow_version", wf.get("version", "")), created,
                        "true" if c.get("gold_standard") else "", "", json.dumps(c.get("metadata", {})), json.dumps(annotations),
                        json.dumps(subject_data), ";".join(c["links"]["subjects"])])
        return out.getvalue().encode()

    def project_classifications(self, query):
        """GET /api/classifications/project: classifications of a project the user can edit, ascending id,
        after last_id, paged; no page counts, only meta.classifications.next_href."""
        if "project_id" not in query:
            raise Reject(422, "project_id is required")
        self.project_of(query["project_id"])
        size = int(query.get("page_size", 20))
        if size < 1 or size > 100:
            raise Reject(422, "page_size must be 1 to 100")
        page = int(query.get("page", 1))
        items = [c for c in state["classifications"] if c["links"]["project"] == query["project_id"]
                 and ("workflow_id" not in query or c["links"]["workflow"] == query["workflow_id"])
                 and int(c["id"]) > int(query.get("last_id", 0))]
        chunk = items[(page - 1) * size: page * size]
        more = page * size < len(items)
        nxt = None
        if more:
            q = dict(query, page=str(page + 1))
            nxt = "/classifications/project?" + "&".join(f"{k}={v}" for k, v in sorted(q.items()))
        meta = {"page": page, "page_size": size, "next_href": nxt, "previous_href": None}
        return 200, {"classifications": chunk, "links": {}, "meta": {"classifications": meta}}, {"ETag": etag_of(chunk)}, None

    def link_ids(self, doc, key):
        if not isinstance(doc, dict) or set(doc.keys()) != {key} or not isinstance(doc[key], list):
            raise Reject(422, f'body must be {{"{key}": ["id", ...]}}')
        ids = [as_id(i) for i in doc[key]]
        if not ids or None in ids:
            raise Reject(422, f"{key} must be a non-empty list of ids (strings or integers)")
        if len(ids) > 100:
            raise Reject(422, f"at most 100 {key} per request, got {len(ids)}")
        return ids

    def subject_sets(self, method, parts, query, doc):
        if method == "POST" and len(parts) == 1:
            if not isinstance(doc, dict) or set(doc.keys()) != {"subject_sets"} or not isinstance(doc["subject_sets"], dict):
                raise Reject(422, 'body must be {"subject_sets": {...}}')
            body = doc["subject_sets"]
            unknown = set(body) - {"display_name", "metadata", "links"}
            if unknown:
                raise Reject(422, f"unknown keys: {sorted(unknown)}")
            name, links = body.get("display_name"), body.get("links") or {}
            if not isinstance(name, str) or not name:
                raise Reject(422, "display_name is required")
            if as_id(links.get("project")) is None:
                raise Reject(422, "links.project (an id, string or integer) is required")
            project = self.project_of(as_id(links["project"]))
            # SubjectSet validates_uniqueness_of :display_name, scope: :project_id; RecordInvalid is 400.
            if any(s["display_name"] == name and s["links"]["project"] == project["id"] for s in state["subject_sets"].values()):
                raise Reject(400, "Validation failed: Display name has already been taken")
            sid = new_id()
            s = {"id": sid, "display_name": name, "metadata": body.get("metadata") or {}, "set_member_subjects_count": 0,
                 "links": {"project": project["id"], "workflows": [], "subjects": []}}
            state["subject_sets"][sid] = s
            project["links"]["subject_sets"].append(sid)
            return 201, {"subject_sets": [self.set_view(s)]}, {"ETag": etag_of(s)}, None
        if method == "GET" and len(parts) == 1:
            items = [self.set_view(s) for s in state["subject_sets"].values()
                     if ("project_id" not in query or s["links"]["project"] == query["project_id"])
                     and ("display_name" not in query or s["display_name"] == query["display_name"])]
            return self.page("subject_sets", items, query)
        s = state["subject_sets"].get(parts[1]) if len(parts) > 1 else None
        if not s:
            raise Reject(404, "Could not find subject_set")
        if method == "GET" and len(parts) == 2:
            return self.one("subject_sets", self.set_view(s))  # ETag of the view, as If-Match checks
        if method == "POST" and parts[2:] == ["links", "subjects"]:
            ids = self.link_ids(doc, "subjects")
            for i in ids:
                subj = state["subjects"].get(i)
                if not subj:
                    raise Reject(422, f"subject {i} not found")
                if subj["links"]["project"] != s["links"]["project"]:
                    raise Reject(422, f"subject {i} belongs to another project")
                # SetMemberSubject validates_uniqueness_of :subject_id, scope: :subject_set_id.
                if i in s["links"]["subjects"] or ids.count(i) > 1:
                    raise Reject(400, "Validation failed: Subject has already been taken")
            for i in ids:
                if i not in s["links"]["subjects"]:
                    s["links"]["subjects"].append(i)
                    state["subjects"][i]["links"]["subject_sets"].append(s["id"])
                    subject_times.setdefault(i, {"sets": {}})["sets"][s["id"]] = time.time()
            s["set_member_subjects_count"] = len(s["links"]["subjects"])
            return self.one("subject_sets", self.set_view(s))
        if method == "DELETE" and len(parts) == 4 and parts[2] == "links" and parts[3].startswith("subjects"):
            raise Reject(404, "Not found")
        if method == "DELETE" and len(parts) == 5 and parts[2:4] == ["links", "subjects"]:
            # destroy_links: no If-Match (PreconditionCheck runs on update and destroy only);
            # `subjects.delete(*ids)` finds each id among the set's subjects: one that is not there is 404.
            ids = parts[4].split(",")
            if len(ids) > 100 or not all(i.isdigit() for i in ids):
                raise Reject(422, "at most 100 subject ids, comma-separated")
            missing = [i for i in ids if i not in s["links"]["subjects"]]
            if missing:
                raise Reject(404, f"Couldn't find all Subjects with 'id': ({', '.join(ids)}) (found {len(ids) - len(missing)} results, but was looking for {len(ids)})")
            for i in ids:
                if i in s["links"]["subjects"]:
                    s["links"]["subjects"].remove(i)
                    state["subjects"][i]["links"]["subject_sets"].remove(s["id"])
            s["set_member_subjects_count"] = len(s["links"]["subjects"])
            return 204, None, {}, None
        raise Reject(404, "Not found")

    def subjects(self, method, parts, query, doc):
        if method == "POST" and len(parts) == 1:
            body = self.subject_body(doc, creating=True)
            links = body.get("links") or {}
            if as_id(links.get("project")) is None:
                raise Reject(422, "links.project (an id, string or integer) is required")
            project = self.project_of(as_id(links["project"]))
            sets = [as_id(s) for s in links.get("subject_sets", [])]
            if None in sets:
                raise Reject(422, "links.subject_sets must be ids (strings or integers)")
            for sid in sets:
                if state["subject_sets"].get(sid, {}).get("links", {}).get("project") != project["id"]:
                    raise Reject(422, f"subject set {sid} is not in project {project['id']}")
            user = state["user"]
            if user["uploaded_subjects_count"] >= user["subject_limit"]:
                raise Reject(403, f"User has uploaded {user['uploaded_subjects_count']} subjects of {user['subject_limit']} maximum")
            sid = new_id()
            locations = self.signed_locations(body["locations"])
            subj = {"id": sid, "metadata": body.get("metadata") or {}, "locations": locations,
                    "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "links": {"project": project["id"], "subject_sets": []}}
            state["subjects"][sid] = subj
            subject_times[sid] = {"created": time.time(), "sets": {s: time.time() for s in sets}}
            user["uploaded_subjects_count"] += 1
            for s in sets:
                state["subject_sets"][s]["links"]["subjects"].append(sid)
                state["subject_sets"][s]["set_member_subjects_count"] += 1
                subj["links"]["subject_sets"].append(s)
            return 201, {"subjects": [subj]}, {"ETag": etag_of(subj)}, None
        if method == "GET" and len(parts) == 1:
            if "subject_set_id" not in query and "workflow_id" not in query:
                raise Reject(422, "filter by subject_set_id or workflow_id")
            s = state["subject_sets"].get(query.get("subject_set_id", ""))
            items = [state["subjects"][i] for i in (s["links"]["subjects"] if s else [])]
            return self.page("subjects", items, query)
        subj = state["subjects"].get(parts[1]) if len(parts) > 1 else None
        if not subj:
            raise Reject(404, "Could not find subject")
        if method == "GET" and len(parts) == 2:
            return self.one("subjects", subj)
        if method == "PUT" and len(parts) == 2:
            self.check_if_match(subj)
            body = self.subject_body(doc, creating=False)
            if "metadata" in body:
                subj["metadata"] = body["metadata"]
            if "locations" in body:
                for loc in subj["locations"]:
                    for url in loc.values():
                        state["blobs"].pop(urlparse(url).path[len("/uploads/"):], None)
                subj["locations"] = self.signed_locations(body["locations"])
            return 200, {"subjects": [subj]}, {"ETag": etag_of(subj)}, None
        raise Reject(404, "Not found")

    def subject_body(self, doc, creating):
        if not isinstance(doc, dict) or set(doc.keys()) != {"subjects"} or not isinstance(doc["subjects"], dict):
            raise Reject(422, 'body must be {"subjects": {...}}')
        body = doc["subjects"]
        unknown = set(body) - {"locations", "metadata", "links"}
        if unknown:
            raise Reject(422, f"unknown keys: {sorted(unknown)}")
        if creating or "locations" in body:
            locs = body.get("locations")
            if not isinstance(locs, list) or not locs:
                raise Reject(422, "locations must be a non-empty list of MIME types")
            for m in locs:
                if not isinstance(m, str) or m not in ALLOWED_MIME:
                    raise Reject(422, f"location {m!r} is not an allowed MIME type")
        meta = body.get("metadata", {})
        if not isinstance(meta, dict):
            raise Reject(422, "metadata must be an object")
        if "#priority" in meta and not isinstance(meta["#priority"], (int, float, str)):
            raise Reject(422, "#priority is reserved and must be a number")
        return body


server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
