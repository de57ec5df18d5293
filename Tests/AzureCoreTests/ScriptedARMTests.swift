@testable import AzureCore
import DriverSupport
import Foundation
import Testing

/// The ARM client and the token sources against a scripted transport: no network, every
/// request recorded.
@Suite struct ScriptedARMTests {
    @Test func tokensAreCachedAndRenewedBeforeExpiry() throws {
        let clock = SharedCount()  // minutes passed
        let fetched = SharedCount()
        let transport = ScriptedTransport { request throws(DriverError) in
            #expect(request.url == "https://login.test/tenant-1/oauth2/v2.0/token")
            let form = String(decoding: request.body, as: UTF8.self)
            #expect(form.contains("grant_type=client_credentials") && form.contains("scope=https%3A%2F%2Fmanagement.azure.com%2F.default"))
            return jsonResponse(200, ["access_token": "t\(fetched.add())", "expires_in": 3599, "token_type": "Bearer"])
        }
        var settings = TokenSource.Settings()
        settings.tenantID = "tenant-1"; settings.clientID = "c"; settings.clientSecret = "s"; settings.authorityHost = "https://login.test/"
        let tokens = TokenSource(settings: settings, transport: transport)
        #expect(try tokens.current(now: 0) == "t0")
        #expect(try tokens.current(now: 3000) == "t0", "kept while more than 5 minutes are left")
        #expect(try tokens.current(now: 3400) == "t1", "renewed 5 minutes before expiry")
        tokens.invalidate()
        #expect(try tokens.current(now: 3401) == "t2")
        _ = clock
    }

    @Test func managedIdentityReadsIMDSStringsAndUnreachableIsTransient() throws {
        let transport = ScriptedTransport { request throws(DriverError) in
            #expect(request.direct, "IMDS is never proxied")
            #expect(request.headers.contains { $0 == ("Metadata", "true") })
            #expect(request.url == "http://imds.test/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F&client_id=mi-1")
            return jsonResponse(200, ["access_token": "mi", "expires_in": "86399", "expires_on": "1800086399", "token_type": "Bearer"])
        }
        var settings = TokenSource.Settings()
        settings.imdsEndpoint = "http://imds.test"
        settings.managedIdentityClientID = "mi-1"
        #expect(try TokenSource(settings: settings, transport: transport).current(now: 1_800_000_000) == "mi")
        let down = ScriptedTransport { _ throws(DriverError) in throw DriverError(.transient, "Couldn't connect to server", code: "ConnectionError") }
        let e = try #require(failure { try TokenSource(settings: settings, transport: down).current(now: 0) })
        #expect(e.errorClass == .transient && e.code == "IMDSUnavailable", "an unreachable IMDS is transient, not auth")
        let refused = ScriptedTransport { _ throws(DriverError) in
            jsonResponse(400, ["error": "invalid_request", "error_description": "Identity not found"])
        }
        #expect(failure { try TokenSource(settings: settings, transport: refused).current(now: 0) }?.errorClass == .auth)
    }

    @Test func wrongSecretIsAuthWithAADCode() throws {
        let (set, _) = scriptedSet { _ throws(DriverError) in jsonResponse(200, ["value": []]) }
        _ = set
        let transport = ScriptedTransport { _ throws(DriverError) in
            jsonResponse(401, ["error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x"])
        }
        var settings = TokenSource.Settings()
        settings.tenantID = "t"; settings.clientID = "c"; settings.clientSecret = "wrong"
        let e = try #require(failure { try TokenSource(settings: settings, transport: transport).current(now: 0) })
        #expect(e.errorClass == .auth && e.code == "invalid_client" && e.message.hasSuffix("AADSTS7000215: Invalid client secret provided."))
        #expect(!e.message.contains("wrong"), "the secret never appears in a message")
    }

    @Test func pagingIsBoundedAndNeverPartial() throws {
        // A server that always answers with another nextLink (libcloud's PAGINATION_INFINITE_LOOP).
        let pages = SharedCount()
        let (endless, _) = scriptedSet(#", "max_pages": 5"#) { _ throws(DriverError) in
            jsonResponse(200, ["value": [], "nextLink": "https://arm.test/next?page=\(pages.add())"])
        }
        let e = try #require(failure { try endless.list(body(["tags": [String: String]()])) })
        #expect(e.errorClass == .transient && e.message.contains("max_pages") && pages.current == 5)

        let (repeating, _) = scriptedSet { _ throws(DriverError) in jsonResponse(200, ["value": [], "nextLink": "https://arm.test/same"]) }
        #expect(failure { try repeating.list(body(["tags": [String: String]()])) }?.message.contains("repeated nextLink") == true)

        // A nextLink to another host would carry the bearer token there: refused, nothing sent.
        let (foreign, transport) = scriptedSet { _ throws(DriverError) in jsonResponse(200, ["value": [], "nextLink": "https://evil.test/steal"]) }
        #expect(failure { try foreign.list(body(["tags": [String: String]()])) }?.errorClass == .internal)
        #expect(!transport.requests.contains { $0.url.contains("evil.test") })
    }

    @Test func operationsAreFollowedWithinTheirBound() throws {
        let clock = SharedCount()
        let polls = SharedCount()
        let transport = ScriptedTransport { request throws(DriverError) in
            if request.url.contains("/oauth2/") { return jsonResponse(200, ["access_token": "tok", "expires_in": 3599]) }
            _ = polls.add()
            _ = clock.add()
            return jsonResponse(200, ["status": "InProgress"])
        }
        let config = try AzureConfig.parse(#"{"subscription_id": "s", "resource_group": "rg", "location": "westeurope", "subnet_id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s", "tenant_id": "t", "client_id": "c", "client_secret": "x", "arm_endpoint": "https://arm.test", "poll_interval_ms": 1000}"#, environment: [:])
        let arm = ARMClient(config: config, tokens: TokenSource(settings: config.auth, transport: transport), transport: transport,
                            clock: { clock.current }, sleep: { _ in })
        let accepted = ARMResponse(status: 201, headers: ["azure-asyncoperation": "https://arm.test/op/1"], json: .null)
        #expect(try arm.follow(accepted, boundSeconds: 5) == .pending)
        #expect(polls.current <= 5, "one poll per second of the bound at most")
        let location = ARMResponse(status: 202, headers: ["location": "https://arm.test/result/1", "retry-after": "0"], json: .null)
        let done = ScriptedTransport { request throws(DriverError) in
            request.url.contains("/oauth2/") ? jsonResponse(200, ["access_token": "tok", "expires_in": 3599]) : HTTPResponse(status: 204)
        }
        let arm2 = ARMClient(config: config, tokens: TokenSource(settings: config.auth, transport: done), transport: done, sleep: { _ in })
        #expect(try arm2.follow(location, boundSeconds: 5) == .succeeded)
    }

    @Test func createBodiesCarryEverythingTheIssueAsks() throws {
        let (set, transport) = scriptedSet(#", "use_public_ip": true, "spot_max_price": {"Standard_D2s_v3": 0.05}"#) { request throws(DriverError) in
            switch request.method {
            case "GET": return jsonResponse(404, ["error": ["code": "ResourceNotFound", "message": "no"]])
            default:
                let doc = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any] ?? [:]
                var reply = doc
                reply["name"] = String(request.url.split(separator: "?")[0].split(separator: "/").last!)
                reply["id"] = String(request.url.split(separator: "?")[0].dropFirst("https://arm.test".count))
                return jsonResponse(201, reply)
            }
        }
        let made = try set.create(createRequest(tags: ["cloud-dispatch-instance-set": "set-1"], count: 2, preemptible: true,
                                                addedScratch: 10 << 30 + 1, token: "tok-1"))
        #expect(ids(made).count == 2)
        let puts = transport.requests.filter { $0.method == "PUT" }
        #expect(puts.count == 6, "a public IP, a NIC and a VM each")
        let vmPut = try #require(puts.first { $0.url.contains("/virtualMachines/") })
        #expect(vmPut.url.contains("api-version=2026-04-01"))
        let vm = try #require(try JSONSerialization.jsonObject(with: Data(vmPut.body)) as? [String: Any])
        let p = try #require(vm["properties"] as? [String: Any])
        #expect(vm["tags"] as? [String: String] == ["cloud-dispatch-instance-set": "set-1"], "exactly the request's tags on the VM")
        #expect(p["priority"] as? String == "Spot" && p["evictionPolicy"] as? String == "Delete")
        #expect((p["billingProfile"] as? [String: Any])?["maxPrice"] as? Double == 0.05)
        let storage = try #require(p["storageProfile"] as? [String: Any])
        #expect((storage["osDisk"] as? [String: Any])?["deleteOption"] as? String == "Delete")
        let data = try #require((storage["dataDisks"] as? [[String: Any]])?.first)
        #expect(data["diskSizeGB"] as? Int == 11 && data["deleteOption"] as? String == "Delete", "rounded up to whole GiB")
        #expect((storage["imageReference"] as? [String: String])?["publisher"] == "Debian")
        let os = try #require(p["osProfile"] as? [String: Any])
        #expect(os["customData"] as? String == Data("#!/bin/sh\necho hello > /tmp/x\n".utf8).base64EncodedString())
        let nicRef = try #require(((p["networkProfile"] as? [String: Any])?["networkInterfaces"] as? [[String: Any]])?.first)
        #expect((nicRef["properties"] as? [String: Any])?["deleteOption"] as? String == "Delete")
        for put in puts where !put.url.contains("/virtualMachines/") {
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(put.body)) as? [String: Any])
            let tags = try #require(doc["tags"] as? [String: String])
            #expect(tags["cloud-dispatch-instance-set"] == "set-1" && tags[OwnTags.set] == "set-1" && tags[OwnTags.created] != nil,
                    "our tags on every resource")
        }
    }

    @Test func createWithoutKeyUsesALockedKeyAndRefusesBadOnes() throws {
        let (set, transport) = scriptedSet { request throws(DriverError) in
            request.method == "GET" ? jsonResponse(404, ["error": ["code": "ResourceNotFound", "message": "no"]])
                : jsonResponse(201, ["id": "/x", "name": "x", "properties": [:]])
        }
        _ = try set.create(createRequest(tags: ["a": "b"], key: nil))
        let vmPut = try #require(transport.requests.first { $0.method == "PUT" && $0.url.contains("/virtualMachines/") })
        #expect(String(decoding: vmPut.body, as: UTF8.self).contains("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"))
        #expect(failure { try set.create(createRequest(tags: ["a": "b"], key: "not a key")) }?.message.contains("ssh_public_key") == true)
        #expect(failure { try set.create(createRequest(tags: ["a": "b"], count: 21)) }?.message.contains("count") == true)
        #expect(failure { try set.create(createRequest(size: "../x", tags: ["a": "b"])) }?.message.contains("provider_type") == true)
    }
}
