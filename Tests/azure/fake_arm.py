#!/usr/bin/env python3
"""A fake Azure Resource Manager for the Azure driver's tests: VMs, NICs, public IPs, disks,
resource SKUs, the authority's token endpoint (client secret `fake-secret`, or a client assertion signed with
DIR/client.pem's key; DIR/other.pem is a certificate it does not know) and the managed-identity
endpoint (IMDS). No ARM
emulator exists (../shared/reference/testpeers.md §3), so this one is held to Microsoft's own
models: every request must be a method + path + api-version that azure-mgmt-compute /
azure-mgmt-network build, and every PUT/PATCH body must fit the SDK's model (arm_models.py) —
else 400 InvalidRequestContent and the problem is recorded. Its own responses are checked the
same way. contract_test.py points Microsoft's Python SDK and azure-identity at it.

    fake_arm.py --dir DIR        prints two lines: the ARM/authority URL (https, CA in DIR/ca.pem)
                                 and the IMDS URL (http); exits when its standard input closes
                                 (with --until-killed: when it gets SIGTERM)

ARM behaviours: PUT/DELETE answered with 201/200 + Azure-AsyncOperation (PUT) or 202 + Location
(DELETE), operations that stay InProgress for `lro_polls` polls; PUT by name is an update
(idempotent); `nextLink` paging (`page_size`); tags; NICs with `deleteOption` go with their VM;
CloudError bodies. Control API (no auth), under /_fake/:

    POST /_fake/reset                       everything gone, settings back to defaults
    POST /_fake/settings {"page_size": 2, "lro_polls": 1, "token_lifetime": 3599, "retry_after": "0"}
    POST /_fake/faults [{"match": "PUT .*/virtualMachines/", "status": 429, "code": "TooManyRequests",
                         "message": "...", "retry_after": "7" | "date:+5" | "garbage" | null,
                         "times": 1, "hang": false, "reset": false, "async_fail": "AllocationFailed"}]
    DELETE /_fake/faults                    drop every rule (and release hung requests)
    POST /_fake/evict {"name": "vm"}        a Spot eviction: the VM goes deallocated, then is deleted on the next GET
    POST /_fake/expire_tokens               every token issued so far is refused (401 ExpiredAuthenticationToken)
    GET  /_fake/state                       {"virtualMachines": {...}, "networkInterfaces": ..., "publicIPAddresses", "disks"}
    GET  /_fake/violations                  model/route problems seen (requests and own responses)
    GET  /_fake/requests                    [{"method", "path", "status"}]

A rule's "reset" performs the request and then drops the connection without an answer; "hang"
never answers until the rules are dropped; "async_fail" lets a PUT be accepted and its operation
end Failed with that code (the VM left in provisioningState Failed, as ARM does).
"""
import argparse
import base64
import email.utils
import json
import os
import re
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import arm_models  # noqa: E402
from azure.mgmt.compute import models as cm  # noqa: E402
from azure.mgmt.network import models as nm  # noqa: E402

ROUTES = arm_models.Routes.load()
TENANT_SECRET = "fake-secret"
CLIENT_CERT = None  # the certificate registered for the service principal (DIR/client.pem holds it with its key)
KINDS = {
    "virtualMachines": ("Microsoft.Compute", cm.VirtualMachine, cm.VirtualMachineUpdate),
    "networkInterfaces": ("Microsoft.Network", nm.NetworkInterface, None),
    "publicIPAddresses": ("Microsoft.Network", nm.PublicIPAddress, None),
    "disks": ("Microsoft.Compute", cm.Disk, None),
}
SKUS = [
    # name, family, vCPUs, MemoryGB, GPUs, MaxResourceVolumeMB, restricted here
    ("Standard_B1s", "standardBSFamily", 1, "1", 0, 4096, False),
    ("Standard_D2s_v3", "standardDSv3Family", 2, "8", 0, 16384, False),
    ("Standard_D4s_v3", "standardDSv3Family", 4, "16", 0, 32768, False),
    ("Standard_NC6s_v3", "standardNCSv3Family", 6, "112", 1, 344064, False),
    ("Standard_F2s_v2", "standardFSv2Family", 2, "4", 0, 16384, True),
]


def now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".0000000+00:00"


class State:
    def __init__(self):
        self.lock = threading.RLock()
        self.reset()

    def reset(self):
        with self.lock:
            self.resources = {k: {} for k in KINDS}  # kind -> lower(name) -> resource
            self.operations = {}  # id -> {"polls_left", "status", "error", "on_done"}
            self.faults = []
            self.release = threading.Event()
            self.violations = []
            self.requests = []
            self.tokens = {}
            self.settings = {"page_size": 50, "lro_polls": 1, "token_lifetime": 3599, "retry_after": "0"}
            self.ip_counter = 3


STATE = State()


class Reset(Exception):
    pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    base = ""  # set per server

    def log_message(self, *args):
        pass

    # -- plumbing -------------------------------------------------------------------------

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status, obj=None, headers=None):
        data = b"" if obj is None else json.dumps(obj).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if obj is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)
        path = urllib.parse.urlsplit(self.path).path
        with STATE.lock:
            STATE.requests.append({"method": self.command, "path": path, "status": status})

    def _error(self, status, code, message, headers=None):
        self._send(status, {"error": {"code": code, "message": message}}, headers)

    def do_GET(self):
        self._dispatch()

    def do_PUT(self):
        self._dispatch()

    def do_PATCH(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def _dispatch(self):
        try:
            self._route()
        except Reset:
            # The call took effect; the client never hears of it.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            try:
                self.connection.close()
            except OSError:
                pass
        except OSError:
            pass  # the client gave up (a hang it timed out on, a reset)

    # -- routing --------------------------------------------------------------------------

    def _route(self):
        url = urllib.parse.urlsplit(self.path)
        path, query = url.path, dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        body = self._body()
        if path.startswith("/_fake/"):
            return self._control(path, body)
        if path.startswith("/metadata/identity/oauth2/token"):
            return self._imds(query)
        m = re.match(r"^/([^/]+)/oauth2/v2\.0/token$", path)
        if m and self.command == "POST":
            return self._token(dict(urllib.parse.parse_qsl(body.decode())))
        m = re.match(r"^/([^/]+)(/v2\.0)?/\.well-known/openid-configuration$", path)
        if m:
            return self._openid(m.group(1))
        if path.startswith("/common/discovery/instance"):
            return self._send(200, {"tenant_discovery_endpoint": f"{self.base}/common/v2.0/.well-known/openid-configuration",
                                    "api-version": "1.1", "metadata": []})
        # ARM from here on: a bearer token we issued, a route and api-version from the SDK.
        auth = self.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else None
        with STATE.lock:
            expiry = STATE.tokens.get(token)
        if token is None or expiry is None:
            return self._error(401, "InvalidAuthenticationToken", "The access token is invalid.")
        if expiry < time.time():
            return self._error(401, "ExpiredAuthenticationToken", "The access token expiry UTC time is earlier than current UTC time.")
        if "/operations/" in path or "/operationResults/" in path:
            return self._operation(path)
        versions = ROUTES.api_versions(self.command, path)
        if not versions:
            self._violation(f"{self.command} {path}: no such operation in azure-mgmt-compute/network")
            return self._error(404, "NoRegisteredProviderFound", f"No registered resource provider found for {self.command} {path}")
        if query.get("api-version") not in versions:
            self._violation(f"{self.command} {path}: api-version {query.get('api-version')} (SDK: {sorted(versions)})")
            return self._error(400, "InvalidApiVersionParameter", f"The api-version '{query.get('api-version')}' is invalid.")
        fault = self._fault(f"{self.command} {path}")
        if fault is not None and not fault.get("async_fail"):
            if fault.get("hang"):
                STATE.release.wait(300)
                return self._error(503, "ServiceUnavailable", "released")
            if fault.get("reset"):
                self._arm(path, query, body, None)
                raise Reset()
            return self._fault_answer(fault)
        return self._arm(path, query, body, fault)

    def _violation(self, text):
        with STATE.lock:
            STATE.violations.append(text)

    def _fault(self, what):
        with STATE.lock:
            for rule in STATE.faults:
                if rule.get("times", 1) <= 0 or not re.search(rule["match"], what):
                    continue
                rule["times"] = rule.get("times", 1) - 1
                return dict(rule)
        return None

    def _fault_answer(self, rule):
        headers = {}
        ra = rule.get("retry_after")
        if isinstance(ra, str) and ra.startswith("date:"):
            headers["Retry-After"] = email.utils.formatdate(time.time() + float(ra[5:]), usegmt=True)
        elif ra is not None:
            headers["Retry-After"] = str(ra)
        return self._error(rule.get("status", 500), rule.get("code", "InternalServerError"), rule.get("message", "injected fault"), headers)

    # -- control --------------------------------------------------------------------------

    def _control(self, path, body):
        doc = json.loads(body) if body else None
        if path == "/_fake/reset":
            STATE.release.set()
            STATE.reset()
            return self._send(200, {})
        if path == "/_fake/settings":
            with STATE.lock:
                STATE.settings.update(doc or {})
            return self._send(200, STATE.settings)
        if path == "/_fake/faults":
            with STATE.lock:
                if self.command == "DELETE":
                    STATE.faults = []
                    STATE.release.set()
                    STATE.release = threading.Event()
                else:
                    STATE.faults.extend(doc if isinstance(doc, list) else [doc])
            return self._send(200, {})
        if path == "/_fake/evict":
            with STATE.lock:
                vm = STATE.resources["virtualMachines"].get(doc["name"].lower())
                if vm is None:
                    return self._error(404, "ResourceNotFound", doc["name"])
                vm["_power"] = "deallocated"
                vm["_evicted"] = True
            return self._send(200, {})
        if path == "/_fake/expire_tokens":
            with STATE.lock:
                STATE.tokens = {t: 0 for t in STATE.tokens}
            return self._send(200, {})
        if path == "/_fake/state":
            with STATE.lock:
                return self._send(200, {k: {n: self._public(r) for n, r in v.items()} for k, v in STATE.resources.items()})
        if path == "/_fake/violations":
            with STATE.lock:
                return self._send(200, list(STATE.violations))
        if path == "/_fake/requests":
            with STATE.lock:
                return self._send(200, list(STATE.requests))
        return self._error(404, "NotFound", path)

    # -- auth -----------------------------------------------------------------------------

    def _issue(self):
        token = "fake-" + uuid.uuid4().hex
        with STATE.lock:
            lifetime = STATE.settings["token_lifetime"]
            STATE.tokens[token] = time.time() + lifetime
        return token, lifetime

    def _token(self, form):
        if form.get("grant_type") != "client_credentials" or not form.get("client_id"):
            return self._send(400, {"error": "invalid_request", "error_description": "AADSTS900144: grant_type and client_id required."})
        if form.get("client_assertion") is not None:
            problem = self._check_assertion(form)
            if problem:
                return self._send(401, {"error": "invalid_client", "error_codes": [700027], "error_description": problem})
        elif form.get("client_secret") != TENANT_SECRET:
            return self._send(401, {"error": "invalid_client", "error_codes": [7000215],
                                    "error_description": "AADSTS7000215: Invalid client secret provided."})
        if not form.get("scope", "").endswith("/.default"):
            return self._send(400, {"error": "invalid_scope", "error_description": "AADSTS1002012: scope must end in /.default"})
        fault = self._fault("POST token")
        if fault is not None:
            return self._send(fault.get("status", 500), {"error": fault.get("code", "temporarily_unavailable"),
                                                          "error_description": fault.get("message", "injected")})
        token, lifetime = self._issue()
        return self._send(200, {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token})

    def _check_assertion(self, form):
        """A client assertion as Entra ID checks it: a JWT naming the registered certificate by
        thumbprint (x5t or x5t#S256), signed with its key (RS256 or PS256), for this token
        endpoint, issued by and about the client, not expired."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return "AADSTS50027: client_assertion_type must be jwt-bearer."
        b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()  # noqa: E731
        unb64 = lambda t: base64.urlsafe_b64decode(t + "=" * (-len(t) % 4))  # noqa: E731
        try:
            h, c, sig = form["client_assertion"].split(".")
            header, claims = json.loads(unb64(h)), json.loads(unb64(c))
        except ValueError:
            return "AADSTS50027: JWT token is invalid or malformed."
        named = lambda k: str(header.get(k, "")).rstrip("=")  # noqa: E731  (MSAL pads, RFC 7515 does not)
        if named("x5t") != b64(CLIENT_CERT.fingerprint(hashes.SHA1())) and \
                named("x5t#S256") != b64(CLIENT_CERT.fingerprint(hashes.SHA256())):
            return "AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application."
        pad = {"RS256": padding.PKCS1v15(), "PS256": padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)}
        if header.get("alg") not in pad:
            return f"AADSTS5002730: Invalid JWT token. Unsupported algorithm {header.get('alg')}."
        try:
            CLIENT_CERT.public_key().verify(unb64(sig), f"{h}.{c}".encode(), pad[header["alg"]], hashes.SHA256())
        except Exception:  # noqa: BLE001
            return "AADSTS7000274: Client assertion contains an invalid signature."
        audience = self.base + urllib.parse.urlsplit(self.path).path
        if claims.get("aud") != audience:
            return f"AADSTS700016: audience {claims.get('aud')} is not {audience}"
        if claims.get("iss") != form.get("client_id") or claims.get("sub") != form.get("client_id"):
            return "AADSTS700023: iss and sub must be the client id."
        if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] < time.time():
            return "AADSTS700024: Client assertion is not within its valid time range."
        return None

    def _openid(self, tenant):
        b = self.base
        return self._send(200, {
            "token_endpoint": f"{b}/{tenant}/oauth2/v2.0/token", "authorization_endpoint": f"{b}/{tenant}/oauth2/v2.0/authorize",
            "issuer": f"{b}/{tenant}/v2.0", "device_authorization_endpoint": f"{b}/{tenant}/oauth2/v2.0/devicecode",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"], "tenant_region_scope": "EU",
        })

    def _imds(self, query):
        if self.headers.get("Metadata") != "true":
            return self._send(400, {"error": "invalid_request", "error_description": "Required metadata header not specified"})
        if query.get("api-version") != "2018-02-01" or not query.get("resource"):
            return self._send(400, {"error": "invalid_request", "error_description": "bad api-version or resource"})
        fault = self._fault("GET imds")
        if fault is not None:
            return self._send(fault.get("status", 500), {"error": "unavailable", "error_description": "injected"})
        token, lifetime = self._issue()
        now = int(time.time())
        return self._send(200, {"access_token": token, "client_id": query.get("client_id", "mi-client"), "expires_in": str(lifetime),
                                "expires_on": str(now + lifetime), "ext_expires_in": str(lifetime), "not_before": str(now),
                                "resource": query["resource"], "token_type": "Bearer"})

    # -- ARM resources --------------------------------------------------------------------

    def _parse(self, path):
        m = re.match(r"^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/([^/]+)/([^/]+)(?:/([^/]+))?$", path, re.I)
        return m.groups() if m else None

    def _public(self, r):
        return {k: v for k, v in r.items() if not k.startswith("_")}

    def _lro_headers(self, op_id, location_style):
        url = f"{self.base}/subscriptions/sub/providers/Microsoft.Compute/locations/westeurope/" \
              f"{'operationResults' if location_style else 'operations'}/{op_id}?api-version=2026-04-01"
        return {("Location" if location_style else "Azure-AsyncOperation"): url, "Retry-After": STATE.settings["retry_after"]}

    def _start_op(self, on_done, error=None):
        op = str(uuid.uuid4())
        with STATE.lock:
            STATE.operations[op] = {"polls_left": STATE.settings["lro_polls"], "error": error, "on_done": on_done}
        return op

    def _operation(self, path):
        op_id = path.rsplit("/", 1)[-1]
        with STATE.lock:
            op = STATE.operations.get(op_id)
            if op is None:
                return self._error(404, "NotFound", f"operation {op_id}")
            if op["polls_left"] > 0:
                op["polls_left"] -= 1
                done = False
            else:
                done = True
                if op["on_done"]:
                    op["on_done"]()
                    op["on_done"] = None
        location_style = "/operationResults/" in path
        if not done:
            if location_style:
                return self._send(202, None, {"Location": f"{self.base}{self.path}", "Retry-After": STATE.settings["retry_after"]})
            return self._send(200, {"status": "InProgress", "name": op_id})
        if location_style:
            return self._send(204 if not op["error"] else 200, None if not op["error"] else {"error": op["error"]})
        if op["error"]:
            return self._send(200, {"status": "Failed", "name": op_id, "error": op["error"]})
        return self._send(200, {"status": "Succeeded", "name": op_id})

    def _arm(self, path, query, body, fault):
        if path.lower().endswith("/providers/microsoft.compute/skus"):
            return self._skus(query)
        parts = self._parse(path)
        if parts is None:
            return self._error(404, "NotFound", path)
        sub, group, provider, kind, name = parts
        kind = next((k for k in KINDS if k.lower() == kind.lower()), None)
        if kind is None:
            return self._error(404, "NotFound", path)
        rid = f"/subscriptions/{sub}/resourceGroups/{group}/providers/{KINDS[kind][0]}/{kind}"
        if name is None:
            return self._list(kind, rid, path, query)
        rid += "/" + name
        method = {"GET": self._get, "PUT": self._put, "PATCH": self._patch, "DELETE": self._delete}[self.command]
        return method(kind, name, rid, query, body, fault)

    def _get_resource(self, kind, name):
        return STATE.resources[kind].get(name.lower())

    def _view(self, kind, r, expand):
        out = self._public(r)
        if kind == "virtualMachines":
            out = json.loads(json.dumps(out))
            state = out["properties"].get("provisioningState", "Succeeded")
            if expand == "instanceView":
                statuses = [{"code": f"ProvisioningState/{state.lower()}", "level": "Info", "displayStatus": f"Provisioning {state.lower()}"}]
                power = r.get("_power")
                if power:
                    statuses.append({"code": f"PowerState/{power}", "level": "Info", "displayStatus": f"VM {power}"})
                out["properties"]["instanceView"] = {"computerName": r["name"], "statuses": statuses}
            out["properties"].get("osProfile", {}).pop("customData", None)  # ARM never returns it
        model = KINDS[kind][1]
        for problem in arm_models.check_body(model, out, mode="read", path=f"response {kind}"):
            self._violation(problem)
        return out

    def _get(self, kind, name, rid, query, body, fault):
        with STATE.lock:
            r = self._get_resource(kind, name)
            if r is not None and r.get("_evicted") and r.get("_seen_evicted"):
                self._remove_vm(r)  # an evicted Spot VM with evictionPolicy Delete goes
                r = None
            elif r is not None and r.get("_evicted"):
                r["_seen_evicted"] = True
            if r is None:
                return self._error(404, "ResourceNotFound", f"The Resource '{KINDS[kind][0]}/{kind}/{name}' under resource group was not found.")
            return self._send(200, self._view(kind, r, query.get("$expand")))

    def _list(self, kind, rid, path, query):
        with STATE.lock:
            items = sorted(STATE.resources[kind].values(), key=lambda r: r["name"])
            size = STATE.settings["page_size"]
            start = int(query.get("$skiptoken", "0") or 0)
            page = [self._view(kind, r, query.get("$expand")) for r in items[start:start + size]]
        out = {"value": page}
        if start + size < len(items):
            q = dict(query)
            q["$skiptoken"] = str(start + size)
            out["nextLink"] = f"{self.base}{path}?{urllib.parse.urlencode(q)}"
        return self._send(200, out)

    def _skus(self, query):
        location = "westeurope"
        m = re.match(r"location eq '([^']+)'", query.get("$filter", ""))
        if m:
            location = m.group(1)
        value = []
        for name, family, vcpus, mem, gpus, scratch, restricted in SKUS:
            caps = [{"name": "vCPUs", "value": str(vcpus)}, {"name": "MemoryGB", "value": mem},
                    {"name": "MaxResourceVolumeMB", "value": str(scratch)}, {"name": "LowPriorityCapable", "value": "True"}]
            if gpus:
                caps.append({"name": "GPUs", "value": str(gpus)})
            sku = {"resourceType": "virtualMachines", "name": name, "tier": "Standard", "size": name.split("_", 1)[1], "family": family,
                   "locations": [location], "locationInfo": [{"location": location, "zones": ["1", "2", "3"]}],
                   "capabilities": caps, "restrictions": []}
            if restricted:
                sku["restrictions"] = [{"type": "Location", "values": [location], "reasonCode": "NotAvailableForSubscription",
                                        "restrictionInfo": {"locations": [location]}}]
            value.append(sku)
        value.append({"resourceType": "disks", "name": "Premium_LRS", "tier": "Premium", "locations": [location], "capabilities": [],
                      "restrictions": []})
        for i, sku in enumerate(value):
            for problem in arm_models.check_body(cm.ResourceSku, sku, mode="read", path=f"response sku[{i}]"):
                self._violation(problem)
        return self._send(200, {"value": value})

    def _validated(self, model, body, mode):
        try:
            doc = json.loads(body or b"null")
        except ValueError:
            return None, ["body: not JSON"]
        problems = arm_models.check_body(model, doc, mode=mode)
        return doc, problems

    def _put(self, kind, name, rid, query, body, fault):
        doc, problems = self._validated(KINDS[kind][1], body, "create")
        if problems:
            for p in problems:
                self._violation(f"PUT {kind}/{name}: {p}")
            return self._error(400, "InvalidRequestContent", "; ".join(problems))
        with STATE.lock:
            existing = self._get_resource(kind, name)
            if existing is not None and existing["properties"].get("provisioningState") == "Deleting":
                return self._error(409, "OperationNotAllowed", f"{name} is being deleted")
            handler = getattr(self, "_put_" + kind)
            result = handler(name, rid, doc, existing)
            if isinstance(result, tuple):
                return self._error(*result)
            result.setdefault("tags", doc.get("tags", {}))
            STATE.resources[kind][name.lower()] = result
            error = None
            if fault is not None and fault.get("async_fail"):
                error = {"code": fault["async_fail"], "message": fault.get("message", "Allocation failed. Please try again later.")}

            def done(r=result, error=error):
                r["properties"]["provisioningState"] = "Failed" if error else "Succeeded"
                if kind == "virtualMachines" and not error:
                    r["_power"] = "running"
            op = self._start_op(done, error)
            view = self._view(kind, result, None)
        return self._send(200 if existing else 201, view, self._lro_headers(op, False))

    def _put_networkInterfaces(self, name, rid, doc, existing):
        props = doc.get("properties", {})
        configs = props.get("ipConfigurations") or []
        if not configs:
            return (400, "InvalidRequestFormat", "A network interface needs an IP configuration.")
        for c in configs:
            c["id"] = f"{rid}/ipConfigurations/{c.get('name', 'ipconfig1')}"
            cp = c.setdefault("properties", {})
            subnet = (cp.get("subnet") or {}).get("id", "")
            if "/subnets/" not in subnet:
                return (400, "InvalidResourceReference", "Subnet reference is missing or malformed.")
            pip = (cp.get("publicIPAddress") or {}).get("id")
            if pip:
                ip = self._get_resource("publicIPAddresses", pip.rsplit("/", 1)[-1])
                if ip is None:
                    return (400, "InvalidResourceReference", f"Resource {pip} referenced by resource {rid} was not found.")
                ip["properties"]["ipConfiguration"] = {"id": c["id"]}
                ip["_delete_option"] = (cp["publicIPAddress"].get("properties") or {}).get("deleteOption", "Detach")
                cp["publicIPAddress"] = {"id": pip}
            if existing is None:
                STATE.ip_counter += 1
                cp["privateIPAddress"] = f"10.0.0.{STATE.ip_counter % 250 + 4}"
            else:
                cp["privateIPAddress"] = existing["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"]
            cp["provisioningState"] = "Succeeded"
        props["provisioningState"] = "Updating" if existing else "Creating"
        if existing and "virtualMachine" in existing["properties"]:
            props["virtualMachine"] = existing["properties"]["virtualMachine"]
        return {"id": rid, "name": name, "type": "Microsoft.Network/networkInterfaces", "location": doc["location"],
                "tags": doc.get("tags", {}), "etag": f'W/"{uuid.uuid4()}"', "properties": props}

    def _put_publicIPAddresses(self, name, rid, doc, existing):
        props = doc.get("properties", {})
        props["ipAddress"] = existing["properties"].get("ipAddress") if existing else f"20.0.{len(STATE.resources['publicIPAddresses']) // 250}.{len(STATE.resources['publicIPAddresses']) % 250 + 1}"
        props["provisioningState"] = "Creating"
        if existing and "ipConfiguration" in existing["properties"]:
            props["ipConfiguration"] = existing["properties"]["ipConfiguration"]
        out = {"id": rid, "name": name, "type": "Microsoft.Network/publicIPAddresses", "location": doc["location"],
               "tags": doc.get("tags", {}), "sku": doc.get("sku", {"name": "Standard"}), "properties": props}
        if "zones" in doc:
            out["zones"] = doc["zones"]
        return out

    def _put_disks(self, name, rid, doc, existing):
        return (400, "OperationNotAllowed", "disks are made by VMs in this fake")

    def _put_virtualMachines(self, name, rid, doc, existing):
        props = doc.get("properties", {})
        if existing is not None:
            # ARM: a PUT of an existing VM is an update; what cannot change must not.
            old = existing["properties"]
            if old.get("osProfile", {}).get("customData") != props.get("osProfile", {}).get("customData"):
                return (409, "PropertyChangeNotAllowed", "Changing property 'customData' is not allowed.")
            merged = json.loads(json.dumps(existing))
            merged["tags"] = doc.get("tags", {})
            merged["properties"]["provisioningState"] = "Updating"
            return merged
        os_profile = props.get("osProfile", {})
        linux = os_profile.get("linuxConfiguration", {})
        if linux.get("disablePasswordAuthentication") and not (linux.get("ssh") or {}).get("publicKeys"):
            return (400, "InvalidParameter", "Authentication using either SSH or by user name and password must be enabled in Linux profile.")
        size = props.get("hardwareProfile", {}).get("vmSize", "")
        if size not in {s[0] for s in SKUS if not s[6]}:
            return (409, "SkuNotAvailable", f"The requested VM size {size} is not available in the current region.")
        nics = (props.get("networkProfile") or {}).get("networkInterfaces") or []
        if not nics:
            return (400, "InvalidParameter", "Required parameter 'networkProfile' is missing (null).")
        for ref in nics:
            nic = self._get_resource("networkInterfaces", ref["id"].rsplit("/", 1)[-1])
            if nic is None:
                return (400, "InvalidResourceReference", f"Resource {ref['id']} referenced by resource {rid} was not found.")
            if nic["properties"].get("virtualMachine"):
                return (400, "NicInUse", f"Network interface {ref['id']} is used by existing resource {nic['properties']['virtualMachine']['id']}.")
        for ref in nics:
            nic = self._get_resource("networkInterfaces", ref["id"].rsplit("/", 1)[-1])
            nic["properties"]["virtualMachine"] = {"id": rid}
            nic["_delete_option"] = (ref.get("properties") or {}).get("deleteOption", "Detach")
        storage = props.setdefault("storageProfile", {})
        os_disk = storage.setdefault("osDisk", {"createOption": "FromImage"})
        os_disk.setdefault("name", f"{name}_OsDisk_1_{uuid.uuid4().hex}")
        for disk, lun in [(os_disk, None)] + [(d, d.get("lun")) for d in storage.get("dataDisks", [])]:
            did = rid.split("/providers/")[0] + "/providers/Microsoft.Compute/disks/" + disk["name"]
            disk.setdefault("managedDisk", {})["id"] = did
            STATE.resources["disks"][disk["name"].lower()] = {
                "id": did, "name": disk["name"], "type": "Microsoft.Compute/disks", "location": doc["location"], "managedBy": rid,
                "tags": {}, "sku": {"name": disk.get("managedDisk", {}).get("storageAccountType", "Standard_LRS")},
                "properties": {"creationData": {"createOption": "FromImage" if lun is None else "Empty"},
                               "diskSizeGB": disk.get("diskSizeGB", 30), "diskState": "Attached", "timeCreated": now_iso(),
                               "provisioningState": "Succeeded"},
                "_delete_option": disk.get("deleteOption", "Detach"),
            }
        props["provisioningState"] = "Creating"
        props["timeCreated"] = now_iso()
        props["vmId"] = str(uuid.uuid4())
        out = {"id": rid, "name": name, "type": "Microsoft.Compute/virtualMachines", "location": doc["location"],
               "tags": doc.get("tags", {}), "etag": f'"{uuid.uuid4().hex}"', "properties": props, "_power": "starting"}
        if "zones" in doc:
            out["zones"] = doc["zones"]
        return out

    def _patch(self, kind, name, rid, query, body, fault):
        model = KINDS[kind][2]
        if model is None:
            return self._error(405, "MethodNotAllowed", "PATCH")
        doc, problems = self._validated(model, body, "update")
        if problems:
            for p in problems:
                self._violation(f"PATCH {kind}/{name}: {p}")
            return self._error(400, "InvalidRequestContent", "; ".join(problems))
        with STATE.lock:
            r = self._get_resource(kind, name)
            if r is None:
                return self._error(404, "ResourceNotFound", f"{kind}/{name} not found")
            match = self.headers.get("If-Match")
            if match and match != "*" and match != r.get("etag"):
                return self._error(412, "PreconditionFailed", "The etag does not match.")
            if "tags" in doc:
                r["tags"] = doc["tags"]  # ARM: PATCH replaces the tags object as a whole
            r["etag"] = f'"{uuid.uuid4().hex}"'
            view = self._view(kind, r, None)
        return self._send(200, view)

    def _delete(self, kind, name, rid, query, body, fault):
        with STATE.lock:
            r = self._get_resource(kind, name)
            if r is None:
                return self._send(204)
            if kind == "networkInterfaces" and r["properties"].get("virtualMachine"):
                return self._error(400, "NicInUse", f"Network interface {rid} is used by existing resource "
                                                    f"{r['properties']['virtualMachine']['id']}.")
            if kind == "publicIPAddresses" and r["properties"].get("ipConfiguration"):
                return self._error(400, "PublicIPAddressInUse", f"Public IP address {rid} is in use.")
            if kind == "disks" and r.get("managedBy"):
                return self._error(409, "OperationNotAllowed", f"Disk {name} is attached to VM {r['managedBy']}.")
            if kind == "virtualMachines":
                r["properties"]["provisioningState"] = "Deleting"
                r["_power"] = "deallocating"
                op = self._start_op(lambda r=r: self._remove_vm(r))
                return self._send(202, None, self._lro_headers(op, True))
            if kind == "networkInterfaces":
                self._release_ips(r)
            del STATE.resources[kind][name.lower()]
        return self._send(200)

    def _release_ips(self, nic):
        for c in nic["properties"].get("ipConfigurations", []):
            pip = (c.get("properties", {}).get("publicIPAddress") or {}).get("id")
            ip = pip and self._get_resource("publicIPAddresses", pip.rsplit("/", 1)[-1])
            if ip:
                ip["properties"].pop("ipConfiguration", None)
                if ip.get("_delete_option") == "Delete":
                    del STATE.resources["publicIPAddresses"][ip["name"].lower()]

    def _remove_vm(self, vm):
        """The VM goes; what it was created with `deleteOption: Delete` goes with it, the rest is detached."""
        STATE.resources["virtualMachines"].pop(vm["name"].lower(), None)
        for nic in list(STATE.resources["networkInterfaces"].values()):
            if (nic["properties"].get("virtualMachine") or {}).get("id", "").lower() == vm["id"].lower():
                nic["properties"].pop("virtualMachine", None)
                if nic.get("_delete_option") == "Delete":
                    self._release_ips(nic)
                    del STATE.resources["networkInterfaces"][nic["name"].lower()]
        for disk in list(STATE.resources["disks"].values()):
            if (disk.get("managedBy") or "").lower() == vm["id"].lower():
                disk.pop("managedBy", None)
                disk["properties"]["diskState"] = "Unattached"
                if disk.get("_delete_option") == "Delete":
                    del STATE.resources["disks"][disk["name"].lower()]


def make_tls(directory):
    """A throwaway CA and a certificate for 127.0.0.1/localhost signed by it."""
    ca_key, ca, key, csr, cert = (os.path.join(directory, f) for f in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem"))
    ext = os.path.join(directory, "san.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n")
    run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True)  # noqa: E731
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=cdd fake ARM CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1")
    run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext)
    # The service principal's certificate (registered) and another one (not): key + cert in one PEM each.
    for name in ("client", "other"):
        k, c = os.path.join(directory, name + ".key"), os.path.join(directory, name + ".crt")
        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", k, "-out", c, "-days", "2", "-subj", f"/CN=cdd {name}")
        with open(os.path.join(directory, name + ".pem"), "w") as out:
            out.write(open(k).read() + open(c).read())
    global CLIENT_CERT
    from cryptography import x509
    CLIENT_CERT = x509.load_pem_x509_certificate(open(os.path.join(directory, "client.crt"), "rb").read())
    return ca, cert, key


def serve(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--until-killed", action="store_true", help="ignore standard input; run until SIGTERM (make azure-test)")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    ca, cert, key = make_tls(args.dir)

    class TLSServer(ThreadingHTTPServer):
        daemon_threads = True

    arm = TLSServer(("127.0.0.1", args.port), type("ARMHandler", (Handler,), {}))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    arm.socket = context.wrap_socket(arm.socket, server_side=True, do_handshake_on_connect=False)
    arm.RequestHandlerClass.base = f"https://127.0.0.1:{arm.server_address[1]}"
    imds = TLSServer(("127.0.0.1", 0), type("IMDSHandler", (Handler,), {}))
    imds.RequestHandlerClass.base = f"http://127.0.0.1:{imds.server_address[1]}"
    serve(arm)
    serve(imds)
    print(arm.RequestHandlerClass.base, flush=True)
    print(imds.RequestHandlerClass.base, flush=True)
    # Until the parent goes (its end of our standard input closes), or until killed.
    try:
        if args.until_killed:
            threading.Event().wait()
        while sys.stdin.read(4096):
            pass
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
