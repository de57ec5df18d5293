import DriverSupport
import EC2Core
import Foundation
import Testing

@Suite struct CredentialSourceTests {
    func chain(_ config: String = "{}", env: [String: String], files: [String: String] = [:]) throws -> CredentialChain {
        var object = (try JSONSerialization.jsonObject(with: Data(config.utf8))) as! [String: Any]
        object["region"] = "eu-west-1"
        object["imds_endpoint"] = "http://imds.test"
        object["sts_endpoint"] = "https://sts.test"
        let text = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        return CredentialChain(settings: try EC2Config.parse(text, environment: env).credentials, environment: env, readFile: { files[$0] })
    }

    static let stsReply = """
    <AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>
      <SubjectFromWebIdentityToken>system:serviceaccount:ns:sa</SubjectFromWebIdentityToken>
      <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/dispatch/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>
      <Credentials><SessionToken>sts-session</SessionToken><SecretAccessKey>sts-secret</SecretAccessKey>
        <Expiration>2026-11-29T12:00:00Z</Expiration><AccessKeyId>ASIASTS</AccessKeyId></Credentials>
    </AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>
    """
    static let keysDocument = #"{"AccessKeyId": "ASIAECS", "SecretAccessKey": "ecs-secret", "Token": "ecs-session", "Expiration": "2026-11-29T12:00:00Z"}"#
    static let expiry = 1_795_953_600  // 2026-11-29T12:00:00Z

    /// STS, the ECS agent and IMDS in one fake.
    static func services(imdsDown: Bool = false) -> FakeEC2 {
        FakeEC2 { p, request in
            if request.url == "https://sts.test" {
                return p["WebIdentityToken"] == "jwt-1" ? FakeEC2.ok(stsReply)
                                                        : HTTPResponse(status: 400, body: Array(Fixtures.error("InvalidIdentityToken", "bad token").utf8))
            }
            if request.url.hasPrefix("http://169.254.170.2/") || request.url.hasPrefix("http://127.0.0.1:51679/") {
                let auth = request.headers.first { $0.0 == "Authorization" }?.1
                return request.url.hasSuffix("/creds") && (auth == nil || auth == "ecs-auth")
                    ? HTTPResponse(status: 200, body: Array(keysDocument.utf8)) : HTTPResponse(status: 401, body: [])
            }
            if imdsDown { return HTTPResponse(status: 599, body: []) }  // not reached: see imdsThatDoesNotAnswer
            switch (request.method, request.url) {
            case ("PUT", "http://imds.test/latest/api/token"): return HTTPResponse(status: 200, body: Array("t".utf8))
            case (_, "http://imds.test/latest/meta-data/iam/security-credentials/"): return HTTPResponse(status: 200, body: Array("role".utf8))
            case (_, "http://imds.test/latest/meta-data/iam/security-credentials/role"):
                return HTTPResponse(status: 200, body: Array(#"{"Code": "Success", "AccessKeyId": "ASIAROLE", "SecretAccessKey": "r", "Token": "s", "Expiration": "2026-11-29T12:00:00Z"}"#.utf8))
            default: return HTTPResponse(status: 404, body: [])
            }
        }
    }

    @Test func webIdentityExchangesTheTokenFileWithSTS() throws {
        let env = ["HOME": "/none", "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token", "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/dispatch",
                   "AWS_ROLE_SESSION_NAME": "d1"]
        let sts = Self.services()
        let creds = try chain(env: env, files: ["/var/run/token": "jwt-1\n"]).current(transport: sts, now: 0)
        #expect(creds.accessKeyID == "ASIASTS" && creds.secretAccessKey == "sts-secret" && creds.sessionToken == "sts-session")
        #expect(creds.expiresAt == Self.expiry)
        let call = try #require(sts.calls.first)
        #expect(call["Action"] == "AssumeRoleWithWebIdentity" && call["Version"] == "2011-06-15")
        #expect(call["RoleArn"] == "arn:aws:iam::123456789012:role/dispatch" && call["RoleSessionName"] == "d1")
        #expect(sts.requests.first?.headers.contains { $0.0.lowercased() == "authorization" } == false, "not signed: the token is the proof")

        let refused = try #require(failure { try chain(env: env, files: ["/var/run/token": "jwt-old"]).current(transport: Self.services(), now: 0) })
        #expect(refused.errorClass == .auth && refused.code == "InvalidIdentityToken" && !refused.message.contains("jwt-old"))
    }

    @Test func containerCredentialsWithAnAuthorizationToken() throws {
        let relative = try chain(env: ["HOME": "/none", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/creds"]).current(transport: Self.services(), now: 0)
        #expect(relative.accessKeyID == "ASIAECS" && relative.sessionToken == "ecs-session" && relative.expiresAt == Self.expiry)

        let ecs = Self.services()
        let full = try chain(env: ["HOME": "/none", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:51679/creds",
                                   "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/auth"], files: ["/auth": "ecs-auth\n"]).current(transport: ecs, now: 0)
        #expect(full.accessKeyID == "ASIAECS")
        #expect(ecs.requests.first?.headers.first { $0.0 == "Authorization" }?.1 == "ecs-auth")
        let inline = try chain(env: ["HOME": "/none", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:51679/creds",
                                     "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ecs-auth"]).current(transport: Self.services(), now: 0)
        #expect(inline.accessKeyID == "ASIAECS")
        let wrong = failure { try chain(env: ["HOME": "/none", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:51679/creds",
                                              "AWS_CONTAINER_AUTHORIZATION_TOKEN": "other"]).current(transport: Self.services(), now: 0) }
        #expect(wrong?.errorClass == .auth && wrong?.message.contains("other") == false)
        let remote = failure { try chain(env: ["HOME": "/none", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://evil.example/creds"])
            .current(transport: Self.services(), now: 0) }
        #expect(remote?.errorClass == .auth, "plain http only to this machine or the container agents")
    }

    @Test func sourcesAreTriedInTheSDKsOrder() throws {
        let file = "[default]\naws_access_key_id = AKFILE\naws_secret_access_key = f\n"
        var env = ["HOME": "/h", "AWS_ACCESS_KEY_ID": "AKENV", "AWS_SECRET_ACCESS_KEY": "e",
                   "AWS_WEB_IDENTITY_TOKEN_FILE": "/token", "AWS_ROLE_ARN": "arn:aws:iam::1:role/r",
                   "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/creds"]
        let files = ["/token": "jwt-1", "/h/.aws/credentials": file]
        var order: [String] = []
        for unset in ["AWS_ACCESS_KEY_ID", "AWS_WEB_IDENTITY_TOKEN_FILE", "HOME", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] {
            order.append(try chain(env: env, files: files).current(transport: Self.services(), now: 0).accessKeyID)
            env[unset] = nil
        }
        order.append(try chain(env: env, files: files).current(transport: Self.services(), now: 0).accessKeyID)
        #expect(order == ["AKENV", "ASIASTS", "AKFILE", "ASIAECS", "ASIAROLE"])
    }

    @Test func credentialServicesAreNeverProxied() throws {
        let services = Self.services()
        _ = try chain(env: ["HOME": "/none"]).current(transport: services, now: 0)
        _ = try chain(env: ["HOME": "/none", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/creds"]).current(transport: services, now: 0)
        #expect(services.requests.count == 4 && services.requests.allSatisfy(\.direct), "IMDS (3 requests) and the ECS agent")
        let direct = CurlTransport.proxySettings(for: HTTPRequest(method: "GET", url: "http://169.254.169.254/", direct: true), noProxy: ".internal")
        #expect(direct.proxy == "" && direct.noProxy == nil, "an empty CURLOPT_PROXY turns the environment's proxy off")
        let ec2 = CurlTransport.proxySettings(for: HTTPRequest(method: "POST", url: "https://ec2.eu-west-1.amazonaws.com"), noProxy: ".amazonaws.com")
        #expect(ec2.proxy == nil && ec2.noProxy == ".amazonaws.com", "the environment's proxy, and no_proxy as CURLOPT_NOPROXY")

        let ec2Calls = FakeEC2 { _, _ in FakeEC2.ok(Fixtures.describe([])) }
        _ = try TestSets.set(ec2Calls).list(Data(#"{"tags": {}}"#.utf8))
        #expect(ec2Calls.requests.allSatisfy { !$0.direct })
    }

    @Test func imdsThatDoesNotAnswerIsTransient() throws {
        let unreachable = FakeEC2 { (_, request) throws(DriverError) in
            throw DriverError(.transient, "PUT \(request.url): Couldn't connect to server", code: "ConnectionError")
        }
        let error = try #require(failure { try chain(env: ["HOME": "/none"]).current(transport: unreachable, now: 0) })
        #expect(error.errorClass == .transient, "\(error)")
        let noRole = FakeEC2 { _, request in
            request.method == "PUT" ? HTTPResponse(status: 200, body: Array("t".utf8)) : HTTPResponse(status: 404, body: [])
        }
        #expect(failure { try chain(env: ["HOME": "/none"]).current(transport: noRole, now: 0) }?.errorClass == .auth)
    }

    @Test func keysStillValidAreKeptWhenRenewalFails() throws {
        let down = SharedCount()
        let good = Self.services()
        let flaky = FakeEC2 { (_, request) throws(DriverError) in
            if down.current > 0 { throw DriverError(.transient, "connection refused", code: "ConnectionError") }
            return try good.send(request)
        }
        let roles = try chain(env: ["HOME": "/none"])
        #expect(try roles.current(transport: flaky, now: Self.expiry - 3600).accessKeyID == "ASIAROLE")
        _ = down.add(1)
        #expect(try roles.current(transport: flaky, now: Self.expiry - 200).accessKeyID == "ASIAROLE", "renewal failed, keys still valid")
        roles.invalidate()
        #expect(try roles.current(transport: flaky, now: Self.expiry - 100).accessKeyID == "ASIAROLE")
        #expect(failure { try roles.current(transport: flaky, now: Self.expiry + 1) }?.errorClass == .transient, "expired keys are not used")
    }
}
