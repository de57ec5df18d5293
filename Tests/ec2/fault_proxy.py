#!/usr/bin/env python3
"""A fault-injecting reverse proxy in front of moto, for the EC2 errors moto cannot produce
(capacity, limits, throttling, 5xx, slow answers).

    fault_proxy.py --upstream http://127.0.0.1:5000     prints its own URL on stdout

Requests pass through to moto unchanged (Host header included, so signatures stay valid)
unless a fault rule matches. Rules are added over HTTP and used in order:

    POST   /fault-proxy/faults  {"action": "RunInstances", "code": "InsufficientInstanceCapacity",
                                 "status": 500, "times": 1, "match": {"SubnetId": "subnet-1"},
                                 "retry_after": 3, "delay": 0}
    DELETE /fault-proxy/faults  drop every rule
    GET    /fault-proxy/log     [{"action": ..., "faulted": code or null}, ...]

A faulted answer is EC2's own error envelope (Response/Errors/Error/{Code,Message} plus
RequestID) with the HTTP status AWS uses for that code; "{ids}" in a message is replaced by
the request's InstanceId.N values (so "InvalidInstanceID.NotFound" on TerminateInstances names
the ids asked for, as EC2 does for an instance it does not know yet). A rule with "delay" and
no "code" only slows the request down. Two more kinds of rule, instead of "code":

    "reset": true   forward to moto (the call takes effect), then reset the connection instead
                    of answering: the client cannot know the call worked
    "hang": true    accept the request and never answer, until the client gives up or the
                    rules are dropped (DELETE /fault-proxy/faults)

With a "code", two options shape the answer's clock: "date_offset": seconds added to the
answer's Date header (a server whose clock differs from the client's, for RequestExpired), and
"retry_after_date": seconds after that Date, sent as Retry-After in HTTP-date form. The proxy exits when its standard input closes, so a test
process that dies takes it along.
"""
import argparse
import email.utils
import json
import socket
import struct
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Messages in the form EC2 writes them; statuses from AWS's error-code list and botocore's
# _retry.json (throttling is 503).
DEFAULTS = {
    "InsufficientInstanceCapacity": (500, "We currently do not have sufficient capacity in the Availability Zone you requested. "
                                          "Our system will be working on provisioning additional capacity."),
    "VcpuLimitExceeded": (400, "You have requested more vCPU capacity than your current vCPU limit of 32 allows for the "
                               "instance bucket that the specified instance type belongs to."),
    "InstanceLimitExceeded": (400, "Your quota allows for 0 more running instance(s). You requested at least 1."),
    "MaxSpotInstanceCountExceeded": (400, "Max spot instance count exceeded"),
    "InsufficientFreeAddressesInSubnet": (400, "The specified subnet does not have enough free addresses to satisfy the request."),
    "RequestLimitExceeded": (503, "Request limit exceeded."),
    "Unsupported": (400, "The requested configuration is currently not supported."),
    "InternalError": (500, "An internal error has occurred."),
    "UnauthorizedOperation": (403, "You are not authorized to perform this operation."),
    "InvalidInstanceID.NotFound": (400, "The instance ID '{ids}' does not exist"),
    "InvalidSubnetID.NotFound": (400, "The subnet ID does not exist"),
    "RequestExpired": (400, "Request has expired."),
}

rules = []
log = []
lock = threading.Lock()
# Set when the rules are dropped: hung requests end then.
release = threading.Event()


def error_body(code, message):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>%s</Code><Message>%s</Message>'
            '</Error></Errors><RequestID>%s</RequestID></Response>' % (code, message, uuid.uuid4())).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def date_time_string(self, timestamp=None):
        """The Date header: the faulted answer's own time when it has one (see answer_clock)."""
        return email.utils.formatdate(getattr(self, "answer_time", None) or timestamp or time.time(), usegmt=True)

    def reply(self, status, body, headers=()):
        try:
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.answer_time = None  # the connection may carry more requests
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up waiting (the timeout tests do that on purpose)

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self):
        if self.path == "/fault-proxy/log":
            with lock:
                return self.reply(200, json.dumps(log).encode(), [("Content-Type", "application/json")])
        self.forward(b"")

    def do_DELETE(self):
        if self.path == "/fault-proxy/faults":
            with lock:
                rules.clear()
                log.clear()
                release.set()
            return self.reply(204, b"")
        self.forward(self.body())

    def do_PUT(self):
        self.forward(self.body())

    def do_POST(self):
        data = self.body()
        if self.path == "/fault-proxy/faults":
            rule = json.loads(data)
            rule.setdefault("times", 1)
            with lock:
                rules.append(rule)
                if rule.get("hang"):
                    release.clear()
            return self.reply(201, b"{}", [("Content-Type", "application/json")])
        params = {k: v[0] for k, v in urllib.parse.parse_qs(data.decode(), keep_blank_values=True).items()}
        action = params.get("Action", "")
        rule = None
        with lock:
            for r in rules:
                if r["times"] != 0 and r.get("action") in (None, action) and \
                        all(params.get(k) == v for k, v in r.get("match", {}).items()):
                    r["times"] -= 1
                    rule = r
                    break
            kind = rule and (rule.get("code") or ("reset" if rule.get("reset") else "hang" if rule.get("hang") else None))
            log.append({"action": action, "faulted": kind or None, "params": params})
        if rule and rule.get("delay"):
            time.sleep(rule["delay"])
        if rule and rule.get("hang"):
            release.wait(timeout=600)
            self.close_connection = True
            return
        if rule and rule.get("code"):
            status, message = DEFAULTS.get(rule["code"], (400, rule["code"]))
            status = rule.get("status", status)
            asked = sorted((int(k.split(".")[1]), v) for k, v in params.items() if k.startswith("InstanceId."))
            ids = ", ".join(v for _, v in asked)
            headers = [("Content-Type", "text/xml;charset=UTF-8")]
            if "retry_after" in rule:
                headers.append(("Retry-After", str(rule["retry_after"])))
            # One reading of the clock for Date and Retry-After, so the delay between them is exact.
            self.answer_time = time.time() + rule.get("date_offset", 0)
            if "retry_after_date" in rule:
                headers.append(("Retry-After", email.utils.formatdate(self.answer_time + rule["retry_after_date"], usegmt=True)))
            return self.reply(status, error_body(rule["code"], rule.get("message", message).replace("{ids}", ids)), headers)
        if rule and rule.get("reset"):
            self.forward(data, answer=False)
            self.reset()
            return
        self.forward(data)

    def reset(self):
        """Closes the connection with a TCP reset (SO_LINGER 0), without an HTTP answer."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def forward(self, data, answer=True):
        request = urllib.request.Request(self.server.upstream + self.path, data=data or None, method=self.command)
        for k, v in self.headers.items():
            if k.lower() not in ("content-length", "connection", "expect"):
                request.add_header(k, v)
        try:
            # Not "as answer": that would shadow the flag, and a reset would then answer first.
            with urllib.request.urlopen(request, timeout=60) as upstream:
                status, body, headers = upstream.status, upstream.read(), upstream.getheaders()
        except urllib.error.HTTPError as e:
            status, body, headers = e.code, e.read(), e.headers.items()
        if answer:
            keep = [(k, v) for k, v in headers if k.lower() in ("content-type", "retry-after")]
            self.reply(status, body, keep)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.upstream = args.upstream.rstrip("/")
    print("http://127.0.0.1:%d" % server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()  # returns at EOF: the parent is gone or done


if __name__ == "__main__":
    main()
