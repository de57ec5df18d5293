import DriverHost
import Foundation
import Testing

/// The host refuses what breaks the ABI's limits before a driver sees it (class `invalid`):
/// the fixture's "lax_limits" mode would take over-long tags, so a reply means the host let
/// the request through.
@Suite struct RequestLimitTests {
    func laxSet() async throws -> (NativeDriver, NativeInstanceSet, TemporaryFolder) {
        let folder = try TemporaryFolder.plugins([("libfixture_misbehave.so", "libcdd_misbehave.so")])
        let driver = try #require(makeLoader().loadNow(folder: folder.path).driver(id: "misbehave"))
        let set = try await driver.openNativeInstanceSet(id: "limits", config: #"{"mode": "lax_limits"}"#)
        return (driver, set, folder)
    }

    @Test(arguments: [
        ([String(repeating: "k", count: 129): "v"], "list_request schema"),
        (["k": String(repeating: "v", count: 257)], "list_request schema"),
        (["k": String(repeating: "é", count: 10 << 20)], "list_request schema"),
    ])
    func overLongTagsNeverReachTheDriver(tags: [String: String], expected: String) async throws {
        let (_, set, folder) = try await laxSet()
        defer { folder.remove() }
        await #expect { try await set.list(tags: tags) } throws: { error in
            guard let e = error as? DriverError else { return false }
            return e.errorClass == .invalid && e.message.contains(expected) && e.message.utf8.count < 2000
        }
    }

    @Test func limitsCountCharactersNotBytes() async throws {
        let (_, set, folder) = try await laxSet()
        defer { folder.remove() }
        // 128 two-byte characters: 256 bytes, within the 128-character key limit.
        #expect(try await set.list(tags: [String(repeating: "é", count: 128): "v"]).isEmpty)
    }

    @Test(arguments: ["..", ".", "a/b", "../x", ".hidden", "-x", "", String(repeating: "a", count: 65), "a\u{0}b"])
    func unsafeSetIDsNeverReachTheDriver(id: String) async throws {
        let (driver, _, folder) = try await laxSet()
        defer { folder.remove() }
        await #expect { try await driver.openNativeInstanceSet(id: id, config: "{}") } throws: { error in
            guard let e = error as? DriverError else { return false }
            return e.errorClass == .invalid && e.message.contains("a letter or digit, then letters, digits")
        }
    }

    @Test func setIDsWithDotsInsideAreFine() async throws {
        let (driver, _, folder) = try await laxSet()
        defer { folder.remove() }
        let set = try await driver.openNativeInstanceSet(id: "prod.eu-1_a", config: "{}")
        await set.close()
    }
}
