#!/usr/bin/env python3
"""Google's own clients judge the fake: google-api-python-client (requests built from the
same discovery document, its paging helpers, its error handling) and google-auth (the
service-account JWT flow and the metadata server) talk to Tests/gce/fake_gce.py. If they
can insert, bulk-insert, page, label, wait on operations and delete through it, the fake
speaks the real protocol; and the fake's own record of requests or answers that broke the
discovery document must stay empty.

    python3 Tests/gce/contract_test.py        exits non-zero on the first failure
"""
import json
import os
import sys
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import fake_gce  # noqa: E402
from keys import write_service_account_key  # noqa: E402


PROJECT, ZONE = "p1", "us-central1-a"
SCOPE = "https://www.googleapis.com/auth/compute"
checks = 0


def check(condition, what):
    global checks
    if not condition:
        raise SystemExit("FAIL: " + what)
    checks += 1
    print("ok   " + what)


def body(name, labels=None):
    return {"name": name, "machineType": "zones/%s/machineTypes/e2-micro" % ZONE, "labels": labels or {"pool": "contract"},
            "disks": [{"boot": True, "autoDelete": True, "initializeParams": {"sourceImage": "projects/debian-cloud/global/images/family/debian-12"}}],
            "networkInterfaces": [{"network": "global/networks/default"}],
            "metadata": {"items": [{"key": "ssh-keys", "value": "u:ssh-ed25519 AAAA x"}]},
            "scheduling": {"provisioningModel": "SPOT", "instanceTerminationAction": "DELETE"}}


def main():
    work = tempfile.mkdtemp(prefix="gce-contract-")
    good = os.path.join(work, "good.json")
    other = os.path.join(work, "other.json")
    server = fake_gce.start(PROJECT, [ZONE, "us-central1-b"], [])
    url = "http://127.0.0.1:%d" % server.server_address[1]
    write_service_account_key(good, url + "/token", "robot@p1.iam.gserviceaccount.com", PROJECT)
    # same client_email, a different private key: its signatures must be refused
    write_service_account_key(other, url + "/token", "robot@p1.iam.gserviceaccount.com", PROJECT)
    server.state.public_keys.update([fake_gce.load_public_key(good)])
    # google-auth reads GCE_METADATA_HOST when it is imported: import it now that the fake runs
    os.environ["GCE_METADATA_HOST"] = "127.0.0.1:%d" % server.server_address[1]
    from google.auth import compute_engine
    from google.auth.exceptions import RefreshError
    from google.auth.transport.requests import Request
    from google.oauth2 import service_account
    from googleapiclient import discovery
    from googleapiclient.errors import HttpError

    # --- google-auth: the JWT flow, and a key the fake must refuse
    creds = service_account.Credentials.from_service_account_file(good, scopes=[SCOPE])
    creds.refresh(Request())
    check(creds.token and creds.token.startswith("ya29."), "google-auth got a token for a service-account JWT")
    bad = service_account.Credentials.from_service_account_file(other, scopes=[SCOPE])
    try:
        bad.refresh(Request())
        check(False, "a JWT signed with another key is refused")
    except RefreshError as e:
        check("Invalid JWT Signature" in str(e), "a JWT signed with another key is refused: %s" % e)

    # --- google-auth: the metadata server
    meta = compute_engine.Credentials()
    meta.refresh(Request())
    check(meta.token and meta.token.startswith("ya29."), "google-auth got a token from the metadata server")

    compute = discovery.build("compute", "v1", credentials=creds, static_discovery=True,
                              client_options={"api_endpoint": url + "/compute/v1/"})
    inst = compute.instances()

    # --- insert, operation wait, get
    op = inst.insert(project=PROJECT, zone=ZONE, body=body("c-one"), requestId="2f1c7d3e-8a4b-4c5d-9e6f-0a1b2c3d4e5f").execute()
    check(op["status"] in ("PENDING", "RUNNING"), "insert answers a running operation")
    again = inst.insert(project=PROJECT, zone=ZONE, body=body("c-one"), requestId="2f1c7d3e-8a4b-4c5d-9e6f-0a1b2c3d4e5f").execute()
    check(again["name"] == op["name"], "a repeated requestId returns the same operation")
    done = compute.zoneOperations().wait(project=PROJECT, zone=ZONE, operation=op["name"]).execute()
    check(done["status"] == "DONE" and "error" not in done, "zoneOperations.wait returns the operation DONE")
    got = inst.get(project=PROJECT, zone=ZONE, instance="c-one").execute()
    check(got["status"] == "RUNNING" and got["scheduling"]["provisioningModel"] == "SPOT", "get shows the instance RUNNING, spot")

    # --- bulkInsert
    bulk = {"count": "7", "minCount": "7", "namePattern": "c-bulk-###",
            "instanceProperties": {k: v for k, v in body("x").items() if k != "name"} | {"machineType": "e2-micro"}}
    op = inst.bulkInsert(project=PROJECT, zone=ZONE, body=bulk).execute()
    compute.zoneOperations().wait(project=PROJECT, zone=ZONE, operation=op["name"]).execute()
    names = []
    req = inst.list(project=PROJECT, zone=ZONE, filter='(labels.pool = "contract")', maxResults=3)
    pages = 0
    while req is not None:
        page = req.execute()
        pages += 1
        names += [i["name"] for i in page.get("items", [])]
        req = inst.list_next(req, page)
        check(pages < 10, "paging ends")
    check(pages == 3 and len(names) == 8 and "c-bulk-007" in names, "list pages through 8 instances 3 at a time (%d pages)" % pages)

    agg = []
    req = inst.aggregatedList(project=PROJECT, filter='(labels.pool = "contract")', maxResults=5)
    while req is not None:
        page = req.execute()
        for scope in page["items"].values():
            agg += [i["name"] for i in scope.get("instances", [])]
        req = inst.aggregatedList_next(req, page)
    check(sorted(agg) == sorted(names), "aggregatedList pages to the same instances")

    # --- setLabels with a stale fingerprint, then the current one
    stale = got["labelFingerprint"]
    inst.setLabels(project=PROJECT, zone=ZONE, instance="c-one", body={"labels": {"pool": "contract", "a": "1"}, "labelFingerprint": stale}).execute()
    try:
        inst.setLabels(project=PROJECT, zone=ZONE, instance="c-one", body={"labels": {"pool": "contract"}, "labelFingerprint": stale}).execute()
        check(False, "a stale label fingerprint is refused")
    except HttpError as e:
        check(e.resp.status == 412, "a stale label fingerprint is refused with 412")
    current = inst.get(project=PROJECT, zone=ZONE, instance="c-one").execute()
    check(current["labels"] == {"pool": "contract", "a": "1"}, "labels set with the current fingerprint")

    # --- errors as Google's client reads them
    try:
        inst.get(project=PROJECT, zone=ZONE, instance="no-such").execute()
        check(False, "an unknown instance is 404")
    except HttpError as e:
        check(e.resp.status == 404 and e.error_details[0]["reason"] == "notFound", "an unknown instance is 404 notFound")
    urllib.request.urlopen(urllib.request.Request(url + "/_fake/faults", data=json.dumps({"exhausted_zones": ["us-central1-b"]}).encode(), method="POST"))
    op = inst.insert(project=PROJECT, zone="us-central1-b", body=body("c-two")).execute()
    done = compute.zoneOperations().wait(project=PROJECT, zone="us-central1-b", operation=op["name"]).execute()
    check(done["error"]["errors"][0]["code"] == "ZONE_RESOURCE_POOL_EXHAUSTED", "an exhausted zone ends the operation with ZONE_RESOURCE_POOL_EXHAUSTED")

    # --- machine types
    types = compute.machineTypes().list(project=PROJECT, zone=ZONE).execute()["items"]
    check(any(t.get("accelerators") for t in types), "machineTypes.list has a GPU type")

    # --- delete, gone
    op = inst.delete(project=PROJECT, zone=ZONE, instance="c-one").execute()
    done = compute.zoneOperations().wait(project=PROJECT, zone=ZONE, operation=op["name"]).execute()
    while done["status"] != "DONE":
        done = compute.zoneOperations().wait(project=PROJECT, zone=ZONE, operation=op["name"]).execute()
    try:
        inst.get(project=PROJECT, zone=ZONE, instance="c-one").execute()
        check(False, "a deleted instance is gone")
    except HttpError as e:
        check(e.resp.status == 404, "a deleted instance is gone (404)")

    stats = json.load(urllib.request.urlopen(url + "/_fake/stats"))
    check(stats["problems"] == [], "no request or answer broke the discovery document: %s" % stats["problems"])

    # --- and the fake is a strict judge: a typo in a body, an unknown parameter, a wrong enum
    for bad in [dict(body("c-bad"), lables={"a": "b"}), dict(body("c-bad"), scheduling={"provisioningModel": "CHEAP"})]:
        try:
            inst.insert(project=PROJECT, zone=ZONE, body=bad).execute()
            check(False, "a body that breaks the document is refused")
        except HttpError as e:
            check(e.resp.status == 400, "a body that breaks the document is refused (%s)" % e.error_details[0]["message"][:90])
    try:
        urllib.request.urlopen(urllib.request.Request(url + "/compute/v1/projects/p1/aggregated/instances?noSuchParameter=1",
                                                      headers={"Authorization": "Bearer " + creds.token}), timeout=10)
        check(False, "an unknown query parameter is refused")
    except urllib.error.HTTPError as e:
        check(e.code == 400, "an unknown query parameter is refused")
    stats = json.load(urllib.request.urlopen(url + "/_fake/stats"))
    check(len(stats["problems"]) == 3, "the fake recorded the 3 broken requests")
    server.shutdown()
    print("contract: %d checks passed" % checks)


if __name__ == "__main__":
    main()
