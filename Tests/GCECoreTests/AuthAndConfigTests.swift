import DriverSupport
import Foundation
import GCECore
import Testing

@Suite struct AuthAndConfigTests {
    @Test func tokenIsCachedUntilShortlyBeforeExpiry() throws {
        let clock = Counter()
        let long = CountingTokens(lifetime: 3600)
        let cache = CachedToken(source: long, clock: { clock.next() })
        #expect(try cache.token() == "token-1")
        #expect(try cache.token() == "token-1")
        #expect(long.fetches.withLock { $0 } == 1)
        let short = CountingTokens(lifetime: 200)  // inside the refresh margin: every use refreshes
        let eager = CachedToken(source: short, clock: { 0 })
        _ = try eager.token()
        _ = try eager.token()
        #expect(short.fetches.withLock { $0 } == 2)
        cache.invalidate()
        #expect(try cache.token() == "token-2")
    }

    @Test func metadataServerUnreachableIsTransientAndNoServiceAccountIsAuth() throws {
        let down = MetadataTokenSource(host: "169.254.169.254", transport: Recorder { _ throws(DriverError) in throw DriverError(.transient, "refused") })
        #expect { try down.fetch() } throws: { ($0 as? DriverError)?.errorClass == .transient }
        let none = MetadataTokenSource(host: "h", transport: Recorder { _ in json(404, "not found") })
        #expect { try none.fetch() } throws: { ($0 as? DriverError)?.errorClass == .auth }
        let rec = Recorder { _ in json(200, #"{"access_token": "ya29.x", "expires_in": 3599, "token_type": "Bearer"}"#) }
        #expect(try MetadataTokenSource(host: "h:1", transport: rec).fetch().token == "ya29.x")
        #expect(rec.sent[0].direct && rec.sent[0].headers.contains { $0 == ("Metadata-Flavor", "Google") })
        #expect(rec.sent[0].url == "http://h:1/computeMetadata/v1/instance/service-accounts/default/token")
    }

    @Test func configRefusesWhatItDoesNotKnow() {
        for (text, key) in [(#"{"zones": ["a-b"], "zonez": 1}"#, "zonez"), (#"{"project": "p"}"#, "zones"), (#"{"zones": ["Bad Zone"]}"#, "zones"),
                            (#"{"zones": ["a-b"], "page_size": 501}"#, "page_size"), (#"{"zones": ["a-b"], "use_public_address": true}"#, "use_public_address"),
                            (#"{"zones": ["a-b"], "prices": {"e2-micro": "cheap"}}"#, "prices.e2-micro")] {
            #expect { try GCEConfig.parse(text) } throws: { ($0 as? DriverError)?.errorClass == .invalid && "\($0)".contains(key) }
        }
    }

    @Test func serviceAccountKeyFileErrorsNameTheFile() {
        #expect { try ServiceAccountKey(json: Array(#"{"type": "authorized_user"}"#.utf8), file: "k.json") } throws: { "\($0)".contains("k.json") }
        #expect { try ServiceAccountKey(json: Array(#"{"type": "service_account", "client_email": "a@b", "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}"#.utf8), file: "k.json").assertion(scope: "s", now: 0) } throws: {
            ($0 as? DriverError)?.errorClass == .invalid
        }
    }

    @Test func quotaGroupIsTheFamilyOrPreemptible() {
        #expect(GCEInstanceSet.quotaGroup("n2-standard-4", preemptible: false, overrides: [:]) == "n2")
        #expect(GCEInstanceSet.quotaGroup("custom-4-8192", preemptible: false, overrides: [:]) == "n1")
        #expect(GCEInstanceSet.quotaGroup("n2-standard-4", preemptible: true, overrides: [:]) == "preemptible")
        #expect(GCEInstanceSet.quotaGroup("a2-highgpu-1g", preemptible: false, overrides: ["a2-highgpu-1g": "gpus"]) == "gpus")
    }
}

@Suite struct HandleAndLimitTests {
    @Test func aClosedSetAnswersInvalidAndClosesTwiceHarmlessly() throws {
        let (set, _) = try makeSet { _ in json(200, #"{"items": {}}"#) }
        let handle = SetHandle(set)
        #expect(try handle.set() === set)
        handle.close()
        handle.close()
        #expect { try handle.set() } throws: { ($0 as? DriverError)?.errorClass == .invalid && "\($0)".contains("closed") }
    }

    @Test func setIDsAreSafeNames() {
        for good in ["prod-1", "a", "9.x_y-z", String(repeating: "a", count: 64)] { #expect(ABIText.isSetID(good), "\(good)") }
        for bad in ["", ".", "..", ".hidden", "-x", "a/b", "a b", String(repeating: "a", count: 65), "é"] { #expect(!ABIText.isSetID(bad), "\(bad)") }
    }

    @Test func overLongOrNonUTF8InputIsRefused() {
        let long = [CChar](repeating: 65, count: 100) + [0]
        #expect { try long.withUnsafeBufferPointer { try ABIText.read($0.baseAddress, limit: 99, what: "request") } } throws: { "\($0)".contains("longer") }
        let bad: [CChar] = [0x7b, CChar(bitPattern: 0xff), 0x7d, 0]
        #expect { try bad.withUnsafeBufferPointer { try ABIText.read($0.baseAddress, limit: 99, what: "request") } } throws: { "\($0)".contains("UTF-8") }
        #expect { try ABIText.read(nil, limit: 99, what: "request") } throws: { "\($0)".contains("NULL") }
    }

    @Test func requestFieldsOverTheirLimitsAreInvalidNamingTheField() throws {
        let (set, rec) = try makeSet { _ in json(200, #"{"items": {}}"#) }
        let longKey = String(repeating: "k", count: 129)
        #expect { try set.create(createRequest(count: 1, tags: [longKey: "v"])) } throws: { "\($0)".contains("tags") }
        #expect { try set.create(createRequest(count: 1, token: "bad token!")) } throws: { "\($0)".contains("idempotency_token") }
        #expect { try set.create(createRequest(count: 1001)) } throws: { "\($0)".contains("count") }
        #expect(rec.sent.isEmpty)  // nothing reached the cloud
    }
}

/// The kit's contract checks, at the GCECore level: refusals that name the field and never echo
/// an over-long value.
@Suite struct ContractEdgeTests {
    static let catalogue: Recorder.Answer = { _ in json(200, #"{"items": [{"name": "e2-micro", "guestCpus": 2, "memoryMb": 1024}]}"#) }

    @Test func overLongValuesAreRefusedByFieldWithoutEcho() throws {
        let (set, _) = try makeSet(Self.catalogue)
        let long = String(repeating: "x", count: 129)
        #expect { try set.quotaGroup(Data(#"{"provider_type": "\#(long)", "preemptible": false}"#.utf8)) } throws: {
            "\($0)".contains("provider_type") && !"\($0)".contains(String(repeating: "x", count: 64))
        }
        let huge = String(repeating: "x", count: 10 << 20)
        #expect { try set.list(Data(#"{"tags": {"k": "\#(huge)"}}"#.utf8)) } throws: {
            "\($0)".contains("tags") && !"\($0)".contains(String(repeating: "x", count: 64))
        }
    }

    @Test func aLoneSurrogateIsInvalid() throws {
        let (set, rec) = try makeSet(Self.catalogue)
        #expect { try set.list(Data(#"{"tags": {"k": "\ud800"}}"#.utf8)) } throws: { ($0 as? DriverError)?.errorClass == .invalid }
        #expect(rec.sent.isEmpty)
    }
}
