#!/usr/bin/env python3
"""A fake Compute Engine v1 (plus Google's OAuth2 token endpoint and the GCE metadata server)
on 127.0.0.1, held to Google's discovery document: every request must be a discovery method
with its parameters and a body that fits the method's request schema, and every answer is
checked against the method's response schema before it is sent. A request that breaks the
document gets 400 and is recorded; an answer that would break it gets 500 and is recorded.
GET /_fake/stats shows the record: tests assert it stays empty.

    fake_gce.py --project p1 --zones us-central1-a,us-central1-b --service-account key.json
        prints its URL; exits when its standard input closes (a test that dies takes it along)

    API root   URL/compute/v1/            token URI  URL/token
    metadata   URL (as GCE_METADATA_HOST or the driver's metadata_host: host:port)

What it implements, as GCE does: instances insert, bulkInsert (namePattern or
perInstanceProperties, count/minCount), get, list, aggregatedList (filter on labels, name,
status and zone; maxResults/pageToken paging; unreachables), delete (STOPPING, then gone
after --delete-delay seconds), setLabels and setMetadata (fingerprints, 412 when stale);
machineTypes list/aggregatedList; zone operations get/wait/list; requestId deduplication
(a repeated requestId returns the first operation and creates nothing); bearer tokens that
it issued itself (401 otherwise), from RS256 JWTs it verifies with the service accounts'
public keys, or from the metadata server (Metadata-Flavor: Google).

Fault switches (POST /_fake/faults, JSON merged into the current ones; counts are used up):
    quota: N                next N creates end with QUOTA_EXCEEDED (operation error)
    cpu_quota: N            vCPU limit per project (QUOTA_EXCEEDED beyond it), 0 = none
    exhausted_zones: [..]   creates there end with ZONE_RESOURCE_POOL_EXHAUSTED (stays until cleared)
    rate_limit: N           next N API calls answer 429 rateLimitExceeded, Retry-After: retry_after
    retry_after: S          seconds (default 2)
    server_error: N         next N API calls answer 503 backendError
    hang: N                 next N API calls get no answer for hang_seconds (default 60)
    reset_after_accept: N   next N creates take effect, then the connection is reset unanswered
    stale_fingerprint: N    next N setLabels find the labels changed meanwhile (412)
    unreachable: [zones]    aggregatedList names these zones in `unreachables`
    token_expires_in: S     lifetime of tokens issued from now on (default 3599)
    revoke_tokens: true     forget every token issued so far (the next API call gets 401)
POST /_fake/reset forgets instances, operations, faults and the record.
"""
import argparse
import base64
import hashlib
import json
import random
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, __import__("os").path.dirname(__file__))
from discovery import Discovery  # noqa: E402

GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"

# name: (vCPUs, memory MiB, accelerators)
MACHINE_TYPES = {
    "e2-micro": (2, 1024, []), "e2-small": (2, 2048, []), "e2-medium": (2, 4096, []),
    "n2-standard-2": (2, 8192, []), "n2-standard-4": (4, 16384, []), "n2-standard-8": (8, 32768, []),
    "n2-highmem-2": (2, 16384, []), "c3-standard-4": (4, 16384, []),
    "a2-highgpu-1g": (12, 87040, [("nvidia-tesla-a100", 1)]),
}


def now_rfc3339():
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="milliseconds")


def fingerprint(value):
    return base64.b64encode(hashlib.sha256(json.dumps(value, sort_keys=True).encode()).digest()[:8]).decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class ApiError(Exception):
    def __init__(self, status, reason, message, headers=None):
        super().__init__(message)
        self.status, self.reason, self.message, self.headers = status, reason, message, headers or {}

    def body(self):
        domain = "usageLimits" if self.reason in ("rateLimitExceeded", "quotaExceeded") else "global"
        return {"error": {"code": self.status, "message": self.message,
                          "errors": [{"message": self.message, "domain": domain, "reason": self.reason}]}}


class Hang(Exception):
    pass


class Reset(Exception):
    def __init__(self, answer):
        self.answer = answer


class State:
    def __init__(self, project, zones, delete_delay):
        self.project, self.zones, self.delete_delay = project, zones, delete_delay
        self.lock = threading.RLock()
        self.public_keys = {}  # client_email -> public key
        self.reset()

    def reset(self):
        with getattr(self, "lock", threading.RLock()):
            self.instances = {}      # (zone, name) -> Instance dict
            self.operations = {}     # (zone, name) -> Operation dict
            self.pending = {}        # (zone, op name) -> callable finishing it
            self.request_ids = {}    # requestId -> (zone, op name)
            self.tokens = {}         # token -> expiry (epoch)
            self.faults = {"retry_after": 2, "hang_seconds": 60, "token_expires_in": 3599}
            self.problems = []       # requests or answers that broke the discovery document
            self.calls = {}          # method id -> count
            self.next_id = 1000

    def take(self, fault):
        """Uses up one count of a counted fault switch."""
        n = self.faults.get(fault, 0)
        if n:
            self.faults[fault] = n - 1
            return True
        return False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeGCE/1"

    def log_message(self, *args):
        pass

    # ---- plumbing -------------------------------------------------------------------------

    @property
    def state(self):
        return self.server.state

    def base_url(self):
        return "http://%s:%d" % self.server.server_address[:2]

    def send_json(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reset_connection(self):
        # SO_LINGER 0: close sends a RST, the client sees the connection reset with no answer.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_DELETE(self):
        self.route("DELETE")

    def do_PUT(self):
        self.route("PUT")

    def do_PATCH(self):
        self.route("PATCH")

    def route(self, verb):
        url = urllib.parse.urlsplit(self.path)
        body = self.read_body()
        try:
            if url.path.startswith("/_fake/"):
                return self.control(verb, url.path, body)
            if url.path == "/token":
                return self.token_endpoint(body)
            if url.path.startswith("/computeMetadata/"):
                return self.metadata(url)
            if url.path.startswith("/compute/v1/"):
                return self.api(verb, url.path[len("/compute/v1/"):], urllib.parse.parse_qs(url.query, keep_blank_values=True), body)
            self.send_json(404, ApiError(404, "notFound", "no such path %s" % url.path).body())
        except Hang:
            time.sleep(self.state.faults.get("hang_seconds", 60))
            self.reset_connection()
        except Reset:
            # Part of an answer, then a reset: the client saw the call accepted but cannot read
            # its answer. (A reset before any byte would make libcurl send the request again
            # by itself on a reused connection, which requestId makes harmless but which would
            # hide the lost answer from the driver.)
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            self.wfile.flush()
            self.reset_connection()

    # ---- control ----------------------------------------------------------------------------

    def control(self, verb, path, body):
        st = self.state
        with st.lock:
            if path == "/_fake/faults" and verb == "POST":
                st.faults.update(json.loads(body or b"{}"))
                if st.faults.pop("revoke_tokens", False):
                    st.tokens.clear()
                return self.send_json(200, st.faults)
            if path == "/_fake/reset" and verb == "POST":
                st.reset()
                return self.send_json(200, {})
            if path == "/_fake/stats":
                return self.send_json(200, {"problems": st.problems, "calls": st.calls,
                                            "instances": sorted("%s/%s" % k for k in st.instances),
                                            "tokens": len(st.tokens)})
        self.send_json(404, {"error": "no such control path"})

    # ---- OAuth2 token endpoint and metadata server -----------------------------------------

    def issue_token(self):
        st = self.state
        token = "ya29.fake-" + uuid.uuid4().hex
        lifetime = int(st.faults.get("token_expires_in", 3599))
        st.tokens[token] = time.time() + lifetime
        return {"access_token": token, "expires_in": lifetime, "token_type": "Bearer"}

    def token_endpoint(self, body):
        form = urllib.parse.parse_qs(body.decode())
        grant = form.get("grant_type", [""])[0]
        if grant != JWT_BEARER:
            return self.send_json(400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type: %s" % grant})
        try:
            self.verify_jwt(form.get("assertion", [""])[0])
        except ValueError as e:
            return self.send_json(400, {"error": "invalid_grant", "error_description": str(e)})
        with self.state.lock:
            self.send_json(200, self.issue_token())

    def verify_jwt(self, jwt):
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
        parts = jwt.split(".")
        if len(parts) != 3:
            raise ValueError("Invalid JWT: not three parts.")
        header, claims = json.loads(b64url_decode(parts[0])), json.loads(b64url_decode(parts[1]))
        if header.get("alg") != "RS256":
            raise ValueError("Invalid JWT: alg must be RS256.")
        key = self.state.public_keys.get(claims.get("iss"))
        if key is None:
            raise ValueError("Invalid JWT: unknown issuer %s." % claims.get("iss"))
        try:
            key.verify(b64url_decode(parts[2]), (parts[0] + "." + parts[1]).encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise ValueError("Invalid JWT Signature.")
        if claims.get("aud") not in (GOOGLE_TOKEN_AUDIENCE, self.base_url() + "/token"):
            raise ValueError("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. aud %r" % claims.get("aud"))
        now = time.time()
        iat, exp = claims.get("iat", 0), claims.get("exp", 0)
        if not (iat - 300 <= now <= exp + 300) or exp - iat > 3600:
            raise ValueError("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.")
        if not claims.get("scope"):
            raise ValueError("Invalid JWT: no scope.")

    def metadata(self, url):
        if self.headers.get("Metadata-Flavor") != "Google":
            return self.send_json(403, {"error": "Missing Metadata-Flavor:Google header"})
        hdr = {"Metadata-Flavor": "Google"}
        base = "/computeMetadata/v1/instance/service-accounts/default"
        if url.path == base + "/token":
            with self.state.lock:
                return self.send_json(200, self.issue_token(), hdr)
        if url.path in (base + "/", base):
            return self.send_json(200, {"aliases": ["default"], "email": "vm@%s.iam.gserviceaccount.com" % self.state.project,
                                        "scopes": ["https://www.googleapis.com/auth/cloud-platform"]}, hdr)
        if url.path == "/computeMetadata/v1/project/project-id":
            data = self.state.project.encode()
            self.send_response(200)
            self.send_header("Metadata-Flavor", "Google")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            return self.wfile.write(data)
        self.send_json(404, {"error": "not found"}, hdr)

    # ---- the API ----------------------------------------------------------------------------

    def api(self, verb, path, query, raw):
        st = self.state
        doc = self.server.doc
        method, params = doc.match(verb, path)
        if method is None:
            return self.refuse(400, "%s %s is not a method of the discovery document" % (verb, path))
        with st.lock:
            st.calls[method["id"]] = st.calls.get(method["id"], 0) + 1
        problems = doc.check_query(method, query)
        body = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                problems.append("body is not JSON")
        if "request" in method:
            if body is None:
                problems.append("%s needs a %s body" % (method["id"], method["request"]["$ref"]))
            else:
                problems += doc.check_body(body, method["request"]["$ref"], method_id=method["id"], request=True)
        elif body is not None:
            problems.append("%s takes no body" % method["id"])
        if problems:
            return self.refuse(400, "; ".join(problems), method["id"])
        auth = self.headers.get("Authorization", "")
        with st.lock:
            expiry = st.tokens.get(auth[len("Bearer "):]) if auth.startswith("Bearer ") else None
            if expiry is None or expiry < time.time():
                err = ApiError(401, "authError", "Request had invalid authentication credentials. Expected OAuth 2 access token.")
                return self.send_json(401, err.body(), {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})
            if st.take("hang"):
                raise Hang()
            if st.take("rate_limit"):
                err = ApiError(429, "rateLimitExceeded", "Rate Limit Exceeded")
                return self.send_json(429, err.body(), {"Retry-After": str(st.faults.get("retry_after", 2))})
            if st.take("server_error"):
                return self.send_json(503, ApiError(503, "backendError", "Backend Error").body())
            if params.get("project") != st.project:
                return self.send_json(404, ApiError(404, "notFound", "The resource 'projects/%s' was not found" % params.get("project")).body())
            if "zone" in params and params["zone"] not in st.zones:
                return self.send_json(404, ApiError(404, "notFound", "The resource 'projects/%s/zones/%s' was not found" % (st.project, params["zone"])).body())
            handler = getattr(self, "m_" + method["id"].replace("compute.", "").replace(".", "_"), None)
            if handler is None:
                return self.refuse(501, "%s is not implemented by the fake" % method["id"], method["id"])
            q = {k: v[0] for k, v in query.items()}
            try:
                status, answer = handler(params, q, body)
            except ApiError as e:
                return self.send_json(e.status, e.body(), e.headers)
            except Reset as r:
                status, answer = r.answer
                self.check_answer(method, answer)
                raise
        if "response" in method:
            if not self.check_answer(method, answer):
                return
        self.send_json(status, answer)

    def check_answer(self, method, answer):
        problems = self.server.doc.check_body(answer, method["response"]["$ref"], request=False)
        if problems:
            self.refuse(500, "the fake's own answer breaks the document: " + "; ".join(problems), method["id"])
            return False
        return True

    def refuse(self, status, message, method_id=None):
        with self.state.lock:
            self.state.problems.append({"method": method_id, "path": self.path, "problem": message})
        reason = "badRequest" if status == 400 else "internalError"
        self.send_json(status, ApiError(status, reason, message).body())

    # ---- resources ---------------------------------------------------------------------------

    def link(self, *parts):
        return self.base_url() + "/compute/v1/projects/%s/" % self.state.project + "/".join(parts)

    def new_id(self):
        self.state.next_id += 1
        return str(self.state.next_id * 7919)

    def operation(self, zone, op_type, target, done, error=None, http_status=None, extra=None):
        st = self.state
        name = "operation-%d-%s" % (int(time.time() * 1000), uuid.uuid4().hex[:12])
        op = {"kind": "compute#operation", "id": self.new_id(), "name": name, "zone": self.link("zones", zone),
              "operationType": op_type, "targetLink": target, "status": "DONE" if done else "RUNNING",
              "progress": 100 if done else 0, "insertTime": now_rfc3339(), "startTime": now_rfc3339(),
              "user": "cloud-dispatch@%s.iam.gserviceaccount.com" % st.project, "selfLink": self.link("zones", zone, "operations", name)}
        if done:
            op["endTime"] = now_rfc3339()
        if error:
            op["error"] = {"errors": error}
            op["httpErrorStatusCode"] = http_status
            op["httpErrorMessage"] = {403: "FORBIDDEN", 503: "SERVICE UNAVAILABLE", 409: "CONFLICT"}.get(http_status, "BAD REQUEST")
        op.update(extra or {})
        st.operations[(zone, name)] = op
        return op

    def finish_operation(self, op):
        op["status"], op["progress"], op["endTime"] = "DONE", 100, now_rfc3339()

    def check_create(self, zone, count, machine_type, method_id):
        """The error a create in `zone` ends with, as operation errors, or None."""
        st = self.state
        if zone in st.faults.get("exhausted_zones", []):
            return ([{"code": "ZONE_RESOURCE_POOL_EXHAUSTED",
                      "message": "The zone 'projects/%s/zones/%s' does not have enough resources available to fulfill the request.  Try a different zone, or try again later." % (st.project, zone)}], 503)
        cpus = MACHINE_TYPES[machine_type][0] * count
        used = sum(MACHINE_TYPES[i["machineType"].rsplit("/", 1)[-1]][0] for i in st.instances.values())
        limit = st.faults.get("cpu_quota", 0)
        if st.take("quota") or (limit and used + cpus > limit):
            return ([{"code": "QUOTA_EXCEEDED", "message": "Quota 'CPUS' exceeded.  Limit: %s in region %s." % (float(limit or used), zone.rsplit("-", 1)[0]),
                      "errorDetails": [{"quotaInfo": {"metricName": "compute.googleapis.com/cpus", "limitName": "CPUS-per-project-region",
                                                      "dimensions": {"region": zone.rsplit("-", 1)[0]}, "limit": float(limit or used)}}]}], 403)
        return None

    def known_machine_type(self, zone, machine_type):
        if machine_type not in MACHINE_TYPES:
            raise ApiError(400, "invalid", "Invalid value for field 'resource.machineType': '%s'. Machine type with name '%s' does not exist in zone '%s'." % (machine_type, machine_type, zone))
        return machine_type

    def build_instance(self, zone, name, props, machine_type):
        st = self.state
        if machine_type not in MACHINE_TYPES:
            raise ApiError(400, "invalid", "Invalid value for field 'resource.machineType': '%s'. Machine type with name '%s' does not exist in zone '%s'." % (machine_type, machine_type, zone))
        for key, value in props.get("labels", {}).items():
            import re
            if not re.fullmatch(r"[a-z][a-z0-9_-]{0,62}", key) or not re.fullmatch(r"[a-z0-9_-]{0,63}", value):
                raise ApiError(400, "invalid", "Invalid value for field 'resource.labels': '%s'. Label keys and values must conform to the label format." % key)
        disks = props.get("disks", [])
        if not any(d.get("boot") for d in disks) or not any(d.get("initializeParams", {}).get("sourceImage") for d in disks if d.get("boot")):
            raise ApiError(400, "invalid", "Invalid value for field 'resource.disks': a boot disk with a source image is required.")
        ip = "10.128.%d.%d" % ((st.next_id // 250) % 250, st.next_id % 250 + 2)
        nics = []
        for i, nic in enumerate(props.get("networkInterfaces", [])):
            out = {"kind": "compute#networkInterface", "name": "nic%d" % i, "network": self.link(nic.get("network", "global/networks/default")),
                   "networkIP": ip, "fingerprint": fingerprint(ip)}
            if "subnetwork" in nic:
                out["subnetwork"] = self.link(nic["subnetwork"])
            if nic.get("accessConfigs"):
                out["accessConfigs"] = [{"kind": "compute#accessConfig", "type": "ONE_TO_ONE_NAT", "name": a.get("name", "External NAT"),
                                         "natIP": "34.%d.%d.%d" % (random.randrange(256), random.randrange(256), random.randrange(1, 255)),
                                         "networkTier": "PREMIUM"} for a in nic["accessConfigs"]]
            nics.append(out)
        attached = []
        for i, d in enumerate(disks):
            init = d.get("initializeParams", {})
            attached.append({"kind": "compute#attachedDisk", "type": d.get("type", "PERSISTENT"), "mode": "READ_WRITE",
                             "source": self.link("zones", zone, "disks", name if i == 0 else "%s-%d" % (name, i)),
                             "deviceName": d.get("deviceName", "persistent-disk-%d" % i), "index": i, "boot": bool(d.get("boot")),
                             "autoDelete": bool(d.get("autoDelete")), "diskSizeGb": init.get("diskSizeGb", "10"), "interface": "SCSI"})
        metadata = props.get("metadata", {})
        items = metadata.get("items", [])
        labels = props.get("labels", {})
        inst = {"kind": "compute#instance", "id": self.new_id(), "name": name, "zone": self.link("zones", zone),
                "machineType": self.link("zones", zone, "machineTypes", machine_type), "status": "PROVISIONING",
                "creationTimestamp": now_rfc3339(), "labels": labels, "labelFingerprint": fingerprint(labels),
                "metadata": {"kind": "compute#metadata", "fingerprint": fingerprint(items), "items": items},
                "networkInterfaces": nics, "disks": attached, "cpuPlatform": "Intel Cascade Lake",
                "scheduling": props.get("scheduling", {"onHostMaintenance": "MIGRATE", "automaticRestart": True, "provisioningModel": "STANDARD"}),
                "selfLink": self.link("zones", zone, "instances", name)}
        if props.get("serviceAccounts"):
            inst["serviceAccounts"] = props["serviceAccounts"]
        if props.get("tags"):
            inst["tags"] = {"items": props["tags"].get("items", []), "fingerprint": fingerprint(props["tags"].get("items", []))}
        return inst

    def create(self, zone, request_id, op_type, target, instances_fn, count, machine_type, method_id, extra=None):
        """Runs a create once per requestId. The operation comes back RUNNING and is DONE at
        the first get/wait (the instances turn RUNNING then)."""
        st = self.state
        if request_id:
            try:
                uuid.UUID(request_id)
            except ValueError:
                raise ApiError(400, "invalid", "Invalid value for field 'requestId': '%s'. The request ID must be a valid UUID." % request_id)
            if request_id in st.request_ids:
                return 200, st.operations[st.request_ids[request_id]]
        failure = self.check_create(zone, count, machine_type, method_id)
        if failure:
            op = self.operation(zone, op_type, target, done=False, extra=extra)
            errors, status = failure
            def fail(op=op, errors=errors, status=status):
                op["error"] = {"errors": errors}
                op["httpErrorStatusCode"] = status
                op["httpErrorMessage"] = {403: "FORBIDDEN", 503: "SERVICE UNAVAILABLE"}[status]
            st.pending[(zone, op["name"])] = (fail, time.time())
        else:
            made = instances_fn()
            for inst in made:
                st.instances[(zone, inst["name"])] = inst
            op = self.operation(zone, op_type, target, done=False, extra=extra)
            op["targetId"] = made[0]["id"] if len(made) == 1 else op["id"]
            def boot(made=made):
                for inst in made:
                    inst["status"] = "RUNNING"
            st.pending[(zone, op["name"])] = (boot, time.time())
        if request_id:
            st.request_ids[request_id] = (zone, op["name"])
        if st.take("reset_after_accept"):
            raise Reset((200, op))
        return 200, op

    def m_instances_insert(self, p, q, body):
        zone, name = p["zone"], body["name"]
        known = self.state.request_ids.get(q.get("requestId"))
        if known:
            return 200, self.state.operations[known]
        if (zone, name) in self.state.instances:
            raise ApiError(409, "alreadyExists", "The resource 'projects/%s/zones/%s/instances/%s' already exists" % (self.state.project, zone, name))
        machine_type = self.known_machine_type(zone, body.get("machineType", "").rsplit("/", 1)[-1])
        return self.create(zone, q.get("requestId"), "insert", self.link("zones", zone, "instances", name),
                           lambda: [self.build_instance(zone, name, body, machine_type)], 1, machine_type, "compute.instances.insert")

    def m_instances_bulkInsert(self, p, q, body):
        st, zone = self.state, p["zone"]
        props = body.get("instanceProperties")
        if props is None:
            raise ApiError(400, "invalid", "instanceProperties is required without sourceInstanceTemplate")
        count = int(body.get("count", "0"))
        min_count = int(body.get("minCount", count))
        if count < 1 or count > 1000 or not (1 <= min_count <= count):
            raise ApiError(400, "invalid", "Invalid value for field 'bulkInsertInstanceResource.count': count must be 1..1000 and minCount 1..count.")
        if "namePattern" in body:
            import re
            pattern = body["namePattern"]
            m = re.fullmatch(r"([a-z][-a-z0-9]*?)(#+)([-a-z0-9]*)", pattern)
            if not m or len(m.group(2)) > 18:
                raise ApiError(400, "invalid", "Invalid value for field 'bulkInsertInstanceResource.namePattern': '%s'." % pattern)
            prefix, hashes, suffix = m.groups()
            taken = [int(n[len(prefix):len(n) - len(suffix) or None]) for (z, n) in st.instances
                     if z == zone and n.startswith(prefix) and n.endswith(suffix) and n[len(prefix):len(n) - len(suffix) or None].isdigit()]
            start = max(taken, default=0) + 1  # as GCE: numbering continues after existing names
            names = [prefix + str(i).zfill(len(hashes)) + suffix for i in range(start, start + count)]
        elif body.get("perInstanceProperties"):
            known = st.request_ids.get(q.get("requestId"))
            if known:
                return 200, st.operations[known]
            names = list(body["perInstanceProperties"].keys())
            if len(names) != count:
                raise ApiError(400, "invalid", "Invalid value for field 'bulkInsertInstanceResource.perInstanceProperties': %d names for count %d." % (len(names), count))
            for n in names:
                if (zone, n) in st.instances:
                    raise ApiError(409, "alreadyExists", "The resource 'projects/%s/zones/%s/instances/%s' already exists" % (st.project, zone, n))
        else:
            raise ApiError(400, "invalid", "Either namePattern or perInstanceProperties must be set.")
        machine_type = props.get("machineType", "")
        if "/" in machine_type:
            raise ApiError(400, "invalid", "Invalid value for field 'instanceProperties.machineType': bulkInsert takes a machine type name.")
        self.known_machine_type(zone, machine_type)
        extra = {"instancesBulkInsertOperationMetadata": {"perLocationStatus": {"zones/" + zone: {
            "createdVmCount": count, "targetVmCount": count, "status": "CREATING"}}}}
        return self.create(zone, q.get("requestId"), "bulkInsert", self.link("zones", zone), lambda: [
            self.build_instance(zone, n, props, machine_type) for n in names], count, machine_type, "compute.instances.bulkInsert", extra)

    def settle(self):
        """Time passes: deletes whose delay is over are done (their instances gone), and
        creates nobody waited for are done a second after they began."""
        st, now = self.state, time.time()
        for key, inst in list(st.instances.items()):
            if inst.get("_gone_at") is not None and inst["_gone_at"] <= now:
                del st.instances[key]
                if inst["_delete_op"] in st.operations:
                    self.finish_operation(st.operations[inst["_delete_op"]])
        for key, (fn, at) in list(st.pending.items()):
            if at + 1.0 <= now:
                del st.pending[key]
                fn()
                self.finish_operation(st.operations[key])

    def public(self, inst):
        return {k: v for k, v in inst.items() if not k.startswith("_")}

    def get_instance(self, zone, name):
        self.settle()
        inst = self.state.instances.get((zone, name))
        if inst is None:
            raise ApiError(404, "notFound", "The resource 'projects/%s/zones/%s/instances/%s' was not found" % (self.state.project, zone, name))
        return inst

    def m_instances_get(self, p, q, body):
        return 200, self.public(self.get_instance(p["zone"], p["instance"]))

    def m_instances_delete(self, p, q, body):
        st = self.state
        inst = self.get_instance(p["zone"], p["instance"])
        if "_delete_op" in inst:
            return 200, st.operations[inst["_delete_op"]]
        inst["status"] = "STOPPING"
        op = self.operation(p["zone"], "delete", inst["selfLink"], done=False)
        op["targetId"] = inst["id"]
        inst["_delete_op"] = (p["zone"], op["name"])
        inst["_gone_at"] = time.time() + self.server.delete_delay
        self.settle()
        return 200, op

    def m_instances_setLabels(self, p, q, body):
        inst = self.get_instance(p["zone"], p["instance"])
        if self.state.take("stale_fingerprint"):
            inst["labels"] = dict(inst["labels"], **{"changed-by-someone": "else"})
            inst["labelFingerprint"] = fingerprint(inst["labels"])
        if body.get("labelFingerprint") != inst["labelFingerprint"]:
            raise ApiError(412, "conditionNotMet", "Labels fingerprint either invalid or resource labels have changed")
        inst["labels"] = body.get("labels", {})
        inst["labelFingerprint"] = fingerprint(inst["labels"])
        return 200, self.operation(p["zone"], "setLabels", inst["selfLink"], done=True)

    def m_instances_setMetadata(self, p, q, body):
        inst = self.get_instance(p["zone"], p["instance"])
        if body.get("fingerprint") != inst["metadata"]["fingerprint"]:
            raise ApiError(412, "conditionNotMet", "Supplied fingerprint does not match current metadata fingerprint.")
        items = body.get("items", [])
        inst["metadata"] = {"kind": "compute#metadata", "fingerprint": fingerprint(items), "items": items}
        return 200, self.operation(p["zone"], "setMetadata", inst["selfLink"], done=True)

    # ---- lists, filters, pages -------------------------------------------------------------

    def parse_filter(self, text):
        """`(labels.k = "v") (name = "x") AND ...` → [(field path, value)]; anything else is 400."""
        import re
        if not text:
            return []
        terms = []
        rest = text.strip()
        term = re.compile(r'\(?\s*([A-Za-z][A-Za-z0-9_.-]*)\s*(=|!=)\s*"?([^"()]*?)"?\s*\)?(\s+AND\s+|\s+|$)')
        while rest:
            m = term.match(rest)
            if not m:
                raise ApiError(400, "invalid", "Invalid value for field 'filter': '%s'. Invalid list filter expression." % text)
            terms.append((m.group(1), m.group(2), m.group(3)))
            rest = rest[m.end():].strip()
        return terms

    def matches(self, inst, terms):
        for field, op, value in terms:
            if field.startswith("labels."):
                actual = inst.get("labels", {}).get(field[len("labels."):])
            elif field in ("name", "status"):
                actual = inst.get(field)
            elif field == "zone":
                actual = inst["zone"].rsplit("/", 1)[-1]
            else:
                raise ApiError(400, "invalid", "Invalid value for field 'filter': field %s is not supported by the fake." % field)
            if (actual == value) != (op == "="):
                return False
        return True

    def page(self, items, q, kind):
        size = int(q.get("maxResults", 500))
        if size < 0 or size > 500:
            raise ApiError(400, "invalid", "Invalid value for field 'maxResults': %d. Must be between 0 and 500." % size)
        size = size or 500
        start = 0
        if q.get("pageToken"):
            try:
                k, start = base64.urlsafe_b64decode(q["pageToken"]).decode().split(":")
                start = int(start)
                assert k == kind
            except Exception:
                raise ApiError(400, "invalid", "Invalid value for field 'pageToken': '%s'." % q["pageToken"])
        chunk = items[start:start + size]
        token = base64.urlsafe_b64encode(("%s:%d" % (kind, start + size)).encode()).decode() if start + size < len(items) else None
        return chunk, token

    def m_instances_list(self, p, q, body):
        self.settle()
        terms = self.parse_filter(q.get("filter"))
        found = [self.public(i) for (z, n), i in sorted(self.state.instances.items()) if z == p["zone"] and self.matches(i, terms)]
        chunk, token = self.page(found, q, "instances-" + p["zone"])
        out = {"kind": "compute#instanceList", "id": "projects/%s/zones/%s/instances" % (self.state.project, p["zone"]),
               "items": chunk, "selfLink": self.link("zones", p["zone"], "instances")}
        if token:
            out["nextPageToken"] = token
        return 200, out

    def m_instances_aggregatedList(self, p, q, body):
        self.settle()
        st = self.state
        terms = self.parse_filter(q.get("filter"))
        found = [(z, self.public(i)) for (z, n), i in sorted(st.instances.items()) if self.matches(i, terms)]
        chunk, token = self.page(found, q, "aggregated")
        items = {}
        for zone in st.zones:
            mine = [i for z, i in chunk if z == zone]
            items["zones/" + zone] = {"instances": mine} if mine else {
                "warning": {"code": "NO_RESULTS_ON_PAGE", "message": "There are no results for scope 'zones/%s' on this page." % zone,
                            "data": [{"key": "scope", "value": "zones/" + zone}]}}
        out = {"kind": "compute#instanceAggregatedList", "id": "projects/%s/aggregated/instances" % st.project,
               "items": items, "selfLink": self.link("aggregated", "instances")}
        if token:
            out["nextPageToken"] = token
        if st.faults.get("unreachable"):
            out["unreachables"] = ["zones/" + z for z in st.faults["unreachable"]]
        return 200, out

    def machine_type(self, zone, name):
        cpus, mem, acc = MACHINE_TYPES[name]
        m = {"kind": "compute#machineType", "id": str(abs(hash(name)) % 10**9), "name": name, "description": "%d vCPUs, %d MB RAM" % (cpus, mem),
             "guestCpus": cpus, "memoryMb": mem, "zone": zone, "maximumPersistentDisks": 128, "maximumPersistentDisksSizeGb": "263168",
             "isSharedCpu": name in ("e2-micro", "e2-small", "e2-medium"), "creationTimestamp": "1969-12-31T16:00:00.000-08:00",
             "selfLink": self.link("zones", zone, "machineTypes", name)}
        if acc:
            m["accelerators"] = [{"guestAcceleratorType": t, "guestAcceleratorCount": n} for t, n in acc]
        return m

    def m_machineTypes_list(self, p, q, body):
        terms = self.parse_filter(q.get("filter"))
        found = [self.machine_type(p["zone"], n) for n in sorted(MACHINE_TYPES) if self.matches({"name": n, "zone": p["zone"]}, terms)]
        chunk, token = self.page(found, q, "machineTypes-" + p["zone"])
        out = {"kind": "compute#machineTypeList", "id": "projects/%s/zones/%s/machineTypes" % (self.state.project, p["zone"]),
               "items": chunk, "selfLink": self.link("zones", p["zone"], "machineTypes")}
        if token:
            out["nextPageToken"] = token
        return 200, out

    def m_machineTypes_aggregatedList(self, p, q, body):
        items = {"zones/" + z: {"machineTypes": [self.machine_type(z, n) for n in sorted(MACHINE_TYPES)]} for z in self.state.zones}
        return 200, {"kind": "compute#machineTypeAggregatedList", "id": "projects/%s/aggregated/machineTypes" % self.state.project,
                     "items": items, "selfLink": self.link("aggregated", "machineTypes")}

    # ---- operations ------------------------------------------------------------------------

    def get_operation(self, zone, name):
        st = self.state
        self.settle()
        op = st.operations.get((zone, name))
        if op is None:
            raise ApiError(404, "notFound", "The resource 'projects/%s/zones/%s/operations/%s' was not found" % (st.project, zone, name))
        done = st.pending.pop((zone, name), None)
        if done:
            done[0]()
            self.finish_operation(op)
        return op

    def m_zoneOperations_get(self, p, q, body):
        return 200, self.get_operation(p["zone"], p["operation"])

    def m_zoneOperations_wait(self, p, q, body):
        op = self.get_operation(p["zone"], p["operation"])
        if op["status"] != "DONE":
            # a delete still under way: GCE's wait returns after a while even when not done
            wait_until = time.time() + min(2.0, self.server.delete_delay)
            self.state.lock.release()
            try:
                time.sleep(max(0, wait_until - time.time()))
            finally:
                self.state.lock.acquire()
            self.settle()
        return 200, op

    def m_zoneOperations_list(self, p, q, body):
        terms = self.parse_filter(q.get("filter"))
        found = [op for (z, n), op in sorted(self.state.operations.items()) if z == p["zone"] and all(
            (op.get(f) == v) == (o == "=") for f, o, v in terms)]
        chunk, token = self.page(found, q, "operations-" + p["zone"])
        out = {"kind": "compute#operationList", "id": "projects/%s/zones/%s/operations" % (self.state.project, p["zone"]),
               "items": chunk, "selfLink": self.link("zones", p["zone"], "operations")}
        if token:
            out["nextPageToken"] = token
        return 200, out


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def load_public_key(path):
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    with open(path) as f:
        key = json.load(f)
    return key["client_email"], load_pem_private_key(key["private_key"].encode(), password=None).public_key()


def start(project="p1", zones=("us-central1-a", "us-central1-b"), service_accounts=(), port=0, delete_delay=1.0, doc=None):
    server = Server(("127.0.0.1", port), Handler)
    server.doc = doc or Discovery.load()
    server.state = State(project, list(zones), delete_delay)
    server.delete_delay = delete_delay
    for path in service_accounts:
        email, key = load_public_key(path)
        server.state.public_keys[email] = key
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--project", default="p1")
    ap.add_argument("--zones", default="us-central1-a,us-central1-b")
    ap.add_argument("--service-account", action="append", default=[], help="a key JSON whose public key signs JWTs")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--delete-delay", type=float, default=1.0, help="seconds an instance stays STOPPING after delete")
    ap.add_argument("--no-stdin", action="store_true", help="serve until killed, whatever standard input does (make)")
    args = ap.parse_args()
    server = start(args.project, args.zones.split(","), args.service_account, args.port, args.delete_delay)
    print("http://127.0.0.1:%d" % server.server_address[1], flush=True)
    if args.no_stdin:
        threading.Event().wait()
    sys.stdin.read()  # returns at EOF: the parent is gone or done


if __name__ == "__main__":
    main()
