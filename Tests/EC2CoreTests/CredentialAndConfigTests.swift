import DriverSupport
import EC2Core
import Foundation
import Testing

@Suite struct CredentialAndConfigTests {
    func chain(_ config: String = "{}", env: [String: String], files: [String: String] = [:]) throws -> CredentialChain {
        var object = (try JSONSerialization.jsonObject(with: Data(config.utf8))) as! [String: Any]
        object["region"] = "eu-west-1"
        let text = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        let parsed = try EC2Config.parse(text, environment: env)
        return CredentialChain(settings: parsed.credentials, environment: env, readFile: { files[$0] })
    }

    let noNetwork = FakeEC2 { _, _ in HTTPResponse(status: 599, body: []) }

    @Test func staticKeysWinThenEnvironmentThenFile() throws {
        let env = ["AWS_ACCESS_KEY_ID": "AKENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_SESSION_TOKEN": "tok", "HOME": "/home/d"]
        let file = "[default]\naws_access_key_id = AKFILE\naws_secret_access_key = file-secret\n\n[other]\naws_access_key_id=AKOTHER\naws_secret_access_key=o\n"
        let files = ["/home/d/.aws/credentials": file]
        let fixed = try chain(#"{"access_key_id": "AKCONF", "secret_access_key": "c"}"#, env: env, files: files)
        #expect(try fixed.current(transport: noNetwork, now: 0).accessKeyID == "AKCONF")
        let fromEnv = try chain(env: env, files: files).current(transport: noNetwork, now: 0)
        #expect(fromEnv.accessKeyID == "AKENV" && fromEnv.sessionToken == "tok")
        let fromFile = try chain(env: ["HOME": "/home/d"], files: files).current(transport: noNetwork, now: 0)
        #expect(fromFile.accessKeyID == "AKFILE" && fromFile.secretAccessKey == "file-secret")
        let profile = try chain(#"{"profile": "other"}"#, env: ["HOME": "/home/d"], files: files).current(transport: noNetwork, now: 0)
        #expect(profile.accessKeyID == "AKOTHER")
        let envProfile = try chain(env: ["HOME": "/x", "AWS_PROFILE": "other", "AWS_SHARED_CREDENTIALS_FILE": "/home/d/.aws/credentials"],
                                   files: files).current(transport: noNetwork, now: 0)
        #expect(envProfile.accessKeyID == "AKOTHER")
        #expect(!"\(fromFile)".contains("file-secret"), "descriptions never show the secret")
    }

    @Test func instanceRoleThroughIMDSv2WithTokenFirst() throws {
        let imds = FakeEC2 { _, request in
            let token = request.headers.first { $0.0 == "X-aws-ec2-metadata-token" }?.1
            switch (request.method, request.url) {
            case ("PUT", "http://imds.test/latest/api/token"): return HTTPResponse(status: 200, body: Array("imds-token".utf8))
            case (_, _) where token != "imds-token": return HTTPResponse(status: 401, body: [])
            case ("GET", "http://imds.test/latest/meta-data/iam/security-credentials/"): return HTTPResponse(status: 200, body: Array("worker-role\n".utf8))
            case ("GET", "http://imds.test/latest/meta-data/iam/security-credentials/worker-role"):
                return HTTPResponse(status: 200, body: Array(#"{"Code": "Success", "AccessKeyId": "ASIAROLE", "SecretAccessKey": "r", "Token": "session", "Expiration": "2026-11-29T12:00:00Z"}"#.utf8))
            default: return HTTPResponse(status: 404, body: [])
            }
        }
        let roles = try chain(#"{"imds_endpoint": "http://imds.test"}"#, env: ["HOME": "/none"])
        let expiry = 1_795_953_600  // 2026-11-29T12:00:00Z
        let creds = try roles.current(transport: imds, now: expiry - 3600)
        #expect(creds.accessKeyID == "ASIAROLE" && creds.sessionToken == "session" && creds.expiresAt == expiry)
        #expect(imds.requests.first?.method == "PUT", "IMDSv2: the session token comes first")
        _ = try roles.current(transport: imds, now: expiry - 3600)
        #expect(imds.requests.count == 3, "cached while valid")
        _ = try roles.current(transport: imds, now: expiry - 200)
        #expect(imds.requests.count == 6, "renewed five minutes before expiry")

        let none = try chain(#"{"use_instance_role": false}"#, env: ["HOME": "/none"])
        let error = try #require(failure { Data(try none.current(transport: imds, now: 0).accessKeyID.utf8) })
        #expect(error.errorClass == .auth && error.code == "NoCredentials")
    }

    @Test func configIsCheckedKeyByKey() {
        let env = ["HOME": "/none"]
        func problem(_ json: String) -> String? {
            do throws(DriverError) { _ = try EC2Config.parse(json, environment: env); return nil } catch { return error.message }
        }
        #expect(problem(#"{"region": "us-east-1"}"#) == nil)
        #expect(problem("[]") == "config must be a JSON object")
        #expect(problem(#"{"region": "us-east-1", "subnet": "x"}"#)?.contains("unknown key \"subnet\"") == true)
        #expect(problem("{}")?.hasPrefix("config.region") == true)
        #expect(problem(#"{"region": "us-east-1", "page_size": 2}"#)?.hasPrefix("config.page_size") == true)
        #expect(problem(#"{"region": "us-east-1", "use_public_ip": 1}"#)?.hasPrefix("config.use_public_ip") == true)
        #expect(problem(#"{"region": "us-east-1", "subnet_ids": "subnet-1"}"#)?.hasPrefix("config.subnet_ids") == true)
        #expect(problem(#"{"region": "us-east-1", "access_key_id": "A"}"#)?.contains("go together") == true)
        #expect(problem(#"{"region": "us-east-1", "endpoint": "ftp://x"}"#)?.hasPrefix("config.endpoint") == true)
        #expect(try! EC2Config.parse("{}", environment: ["AWS_REGION": "cn-north-1"]).endpoint == "https://ec2.cn-north-1.amazonaws.com.cn")
        #expect(try! EC2Config.parse(#"{"region": "eu-west-1"}"#, environment: env).endpoint == "https://ec2.eu-west-1.amazonaws.com")
    }
}
