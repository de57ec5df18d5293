#!/usr/bin/env python3
"""Microsoft's own clients judge the fake ARM server: azure-identity gets tokens from its
authority and IMDS endpoints, azure-mgmt-network and azure-mgmt-compute create, poll, page,
tag and delete through it. If the SDK can do all that, the fake speaks ARM's protocol (LROs
with both headers, paging, CloudError, tokens); and the SDK's bodies must pass the fake's model
check with no violation, while a body with a misspelt member must not.

    python3 Tests/azure/contract_test.py        prints one line per check; exits non-zero on failure
"""
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
import ssl

HERE = os.path.dirname(os.path.abspath(__file__))
SUB, RG, LOC = "00000000-0000-0000-0000-000000000001", "rg-contract", "westeurope"
SUBNET = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/workers"


def main():
    workdir = tempfile.mkdtemp(prefix="cdd-azure-contract-")
    fake = subprocess.Popen([sys.executable, os.path.join(HERE, "fake_arm.py"), "--dir", workdir],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    arm, imds = fake.stdout.readline().strip(), fake.stdout.readline().strip()
    ca = os.path.join(workdir, "ca.pem")
    context = ssl.create_default_context(cafile=ca)

    def control(path, body=None, method="POST"):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(arm + path, data=data, method=method if data or method != "POST" else "POST")
        with urllib.request.urlopen(req, context=context) as r:
            return json.loads(r.read() or b"null")

    passed = failed = 0

    def check(name, fn):
        nonlocal passed, failed
        try:
            detail = fn()
            passed += 1
            print(f"PASS {name}" + (f": {detail}" if detail else ""))
        except Exception as e:  # noqa: BLE001
            failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}")

    os.environ["REQUESTS_CA_BUNDLE"] = ca
    from azure.identity import CertificateCredential, ClientSecretCredential, ManagedIdentityCredential
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.network import NetworkManagementClient
    from azure.core.exceptions import HttpResponseError, ClientAuthenticationError

    cred = ClientSecretCredential("tenant-1", "client-1", "fake-secret", authority=arm, disable_instance_discovery=True,
                                  connection_verify=ca)
    compute = ComputeManagementClient(cred, SUB, base_url=arm, connection_verify=ca, polling_interval=0)
    network = NetworkManagementClient(cred, SUB, base_url=arm, connection_verify=ca, polling_interval=0)
    control("/_fake/settings", {"page_size": 2, "lro_polls": 2})

    def token():
        t = cred.get_token("https://management.azure.com/.default")
        assert t.token.startswith("fake-") and t.expires_on > 0
        return "client secret token from the fake authority"
    check("azure-identity ClientSecretCredential gets a token", token)

    def bad_secret():
        try:
            ClientSecretCredential("tenant-1", "client-1", "wrong", authority=arm, disable_instance_discovery=True,
                                   connection_verify=ca).get_token("https://management.azure.com/.default")
        except ClientAuthenticationError as e:
            assert "AADSTS7000215" in str(e), e
            return "invalid_client AADSTS7000215"
        raise AssertionError("a wrong secret was accepted")
    check("a wrong client secret is refused as Azure AD does", bad_secret)

    def certificate():
        t = CertificateCredential("tenant-1", "client-1", certificate_path=os.path.join(workdir, "client.pem"), authority=arm,
                                  disable_instance_discovery=True, connection_verify=ca).get_token("https://management.azure.com/.default")
        assert t.token.startswith("fake-")
        try:
            CertificateCredential("tenant-1", "client-1", certificate_path=os.path.join(workdir, "other.pem"), authority=arm,
                                  disable_instance_discovery=True, connection_verify=ca).get_token("https://management.azure.com/.default")
        except ClientAuthenticationError as e:
            assert "AADSTS700027" in str(e), e
            return "MSAL's client assertion verified; an unregistered certificate refused"
        raise AssertionError("an unregistered certificate was accepted")
    check("azure-identity CertificateCredential (client assertion)", certificate)

    def managed_identity():
        os.environ["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = imds
        t = ManagedIdentityCredential().get_token("https://management.azure.com/.default")
        assert t.token.startswith("fake-")
        return "IMDS token (Metadata: true, api-version 2018-02-01)"
    check("azure-identity ManagedIdentityCredential through the fake IMDS", managed_identity)

    names = [f"vm{i}" for i in range(5)]

    def create():
        for name in names:
            nic = network.network_interfaces.begin_create_or_update(RG, name + "-nic", {
                "location": LOC, "tags": {"cloud-dispatch-instance-set": "contract"},
                "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": {
                    "subnet": {"id": SUBNET}, "privateIPAllocationMethod": "Dynamic"}}]},
            }).result()
            assert nic.ip_configurations[0].private_ip_address.startswith("10.0.0.")
            vm = compute.virtual_machines.begin_create_or_update(RG, name, {
                "location": LOC, "tags": {"cloud-dispatch-instance-set": "contract", "n": name},
                "properties": {
                    "hardwareProfile": {"vmSize": "Standard_D2s_v3"},
                    "storageProfile": {"imageReference": {"publisher": "Debian", "offer": "debian-12", "sku": "12-gen2", "version": "latest"},
                                       "osDisk": {"createOption": "FromImage", "deleteOption": "Delete", "name": name + "-os",
                                                  "managedDisk": {"storageAccountType": "StandardSSD_LRS"}}},
                    "osProfile": {"computerName": name, "adminUsername": "azureuser", "customData": "IyEvYmluL3NoCg==",
                                  "linuxConfiguration": {"disablePasswordAuthentication": True, "ssh": {"publicKeys": [
                                      {"path": "/home/azureuser/.ssh/authorized_keys", "keyData": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA x"}]}}},
                    "networkProfile": {"networkInterfaces": [{"id": nic.id, "properties": {"primary": True, "deleteOption": "Delete"}}]},
                    "priority": "Spot", "evictionPolicy": "Delete", "billingProfile": {"maxPrice": -1},
                },
            }).result()
            assert vm.properties.provisioning_state == "Succeeded", vm.properties.provisioning_state
        return f"{len(names)} NIC + Spot VM pairs, each LRO followed through Azure-AsyncOperation to Succeeded"
    check("begin_create_or_update (network, compute) with LRO polling", create)

    def paged():
        listed = [vm.name for vm in compute.virtual_machines.list(RG)]
        assert listed == names, listed
        pages = sum(1 for r in control("/_fake/requests", method="GET")
                    if r["method"] == "GET" and r["path"].endswith("/virtualMachines"))
        assert pages == 3, pages
        return "5 VMs over 3 pages (nextLink), the last without nextLink"
    check("virtual_machines.list follows nextLink and stops", paged)

    def instance_view():
        vm = compute.virtual_machines.get(RG, "vm0", expand="instanceView")
        codes = [s.code for s in vm.properties.instance_view.statuses]
        assert "PowerState/running" in codes, codes
        return ", ".join(codes)
    check("get with $expand=instanceView", instance_view)

    def tags():
        vm = compute.virtual_machines.begin_update(RG, "vm1", {"tags": {"cloud-dispatch-instance-set": "contract", "idle": "hold"}}).result()
        assert vm.tags["idle"] == "hold"
        return "PATCH replaced the tags"
    check("begin_update (PATCH tags)", tags)

    def skus():
        found = {s.name: s for s in compute.resource_skus.list(filter=f"location eq '{LOC}'")}
        assert found["Standard_D2s_v3"].family == "standardDSv3Family"
        assert found["Standard_F2s_v2"].restrictions[0].reason_code == "NotAvailableForSubscription"
        return f"{len(found)} SKUs"
    check("resource_skus.list", skus)

    def throttled():
        control("/_fake/faults", [{"match": "GET .*/virtualMachines/vm0$", "status": 429, "code": "TooManyRequests",
                                   "retry_after": "0", "times": 1}])
        vm = compute.virtual_machines.get(RG, "vm0")
        assert vm.name == "vm0"
        return "the SDK retried after Retry-After"
    check("429 with Retry-After is retried by the SDK", throttled)

    def cloud_error():
        control("/_fake/faults", [{"match": "PUT .*/virtualMachines/", "status": 409, "code": "OperationNotAllowed",
                                   "message": "Operation could not be completed as it results in exceeding approved standardDSv3Family Cores quota.",
                                   "times": 1}])
        try:
            compute.virtual_machines.begin_create_or_update(RG, "vmq", {"location": LOC, "properties": {}})
        except HttpResponseError as e:
            assert e.error.code == "OperationNotAllowed" and "quota" in e.error.message, e
            return "HttpResponseError with ARM's code and message"
        raise AssertionError("no error")
    check("CloudError bodies parse as the SDK expects", cloud_error)

    def async_failure():
        control("/_fake/faults", [{"match": "PUT .*/virtualMachines/vmf$", "async_fail": "AllocationFailed", "times": 1}])
        nic = network.network_interfaces.begin_create_or_update(RG, "vmf-nic", {"location": LOC, "properties": {
            "ipConfigurations": [{"name": "ipconfig1", "properties": {"subnet": {"id": SUBNET}}}]}}).result()
        poller = compute.virtual_machines.begin_create_or_update(RG, "vmf", {
            "location": LOC, "properties": {"hardwareProfile": {"vmSize": "Standard_B1s"},
                                            "networkProfile": {"networkInterfaces": [{"id": nic.id}]}}})
        try:
            poller.result()
        except HttpResponseError as e:
            assert "AllocationFailed" in str(e), e
            return "the operation ended Failed with AllocationFailed"
        raise AssertionError("no error")
    check("a failed long-running operation surfaces its error", async_failure)

    def delete():
        for name in names + ["vmf"]:
            compute.virtual_machines.begin_delete(RG, name).result()
        # vmf was made without deleteOption: Delete, so its NIC and OS disk stay, detached.
        network.network_interfaces.begin_delete(RG, "vmf-nic").result()
        left_disks = [d for d in compute.disks.list_by_resource_group(RG)]
        assert len(left_disks) == 1 and left_disks[0].disk_state == "Unattached" and not left_disks[0].managed_by, left_disks
        compute.disks.begin_delete(RG, left_disks[0].name).result()
        state = control("/_fake/state", method="GET")
        left = {k: sorted(v) for k, v in state.items() if v}
        assert not left, left
        return "VMs deleted through 202 + Location polling; NICs and disks with deleteOption Delete went too"
    check("begin_delete (Location polling) and deleteOption", delete)

    def bad_body():
        req = urllib.request.Request(f"{arm}/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/x"
                                     "?api-version=2026-04-01", method="PUT",
                                     data=json.dumps({"location": LOC, "properties": {"hardwareProfle": {}}}).encode(),
                                     headers={"Authorization": "Bearer " + cred.get_token("https://management.azure.com/.default").token,
                                              "Content-Type": "application/json"})
        try:
            urllib.request.urlopen(req, context=context)
        except urllib.error.HTTPError as e:
            body = json.loads(e.read())
            assert e.code == 400 and "hardwareProfle" in body["error"]["message"], body
            return body["error"]["message"][:90]
        raise AssertionError("a misspelt member was accepted")
    check("the fake refuses a body its models do not allow", bad_body)

    def no_violations():
        v = [x for x in control("/_fake/violations", method="GET") if "hardwareProfle" not in x]
        assert not v, v
        return "every SDK request and every fake response fits the SDK's models"
    check("no model or route violations from the SDK's traffic", no_violations)

    fake.stdin.close()
    fake.wait(timeout=10)
    print(f"contract: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
