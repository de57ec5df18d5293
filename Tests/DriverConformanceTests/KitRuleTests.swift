import DriverConformance
import DriverHost
import Testing

/// The kit fails a driver that breaks one rule, in the check named for it.
@Suite struct KitRuleTests {
    static func run(_ product: String, as name: String, mode: String) async throws -> ConformanceReport {
        var kit = ConformanceKit(driver: try Harness.load(product, as: name), config: #"{"mode": "\#(mode)"}"#)
        kit.settle = .seconds(2)
        kit.cleanupDeadline = .seconds(5)
        return await kit.run()
    }

    static func misbehaving(_ mode: String) async throws -> ConformanceReport {
        try await run("libfixture_misbehave.so", as: "libcdd_misbehave.so", mode: mode)
    }

    @Test(arguments: [("empty_invalid", "refused with an empty message"), ("vague_invalid", #"message "bad request" names none of"#)])
    func invalidErrorsMustNameTheField(mode: String, expected: String) async throws {
        let report = try await Self.misbehaving(mode)
        let check = try #require(report.check("malformed requests are invalid"))
        #expect(check.outcome == .fail)
        #expect(check.detail.contains(expected), "\(check.detail)")
        #expect(report.check("cleanup")?.outcome == .pass)
    }

    @Test func aQuotaGroupForAnUnknownTypeFails() async throws {
        let report = try await Self.misbehaving("any_quota_group")
        let check = try #require(report.check("quota_group of an unknown type is invalid"))
        #expect(check.outcome == .fail)
        #expect(check.detail == #"type cdd-conformance-no-such-type, in no catalogue, counts against "all""#, "\(check.detail)")
        #expect(report.failed == 1, "\(report.table())")
    }

    @Test func aWellBehavedDriverRefusesUnknownTypesReadably() async throws {
        let report = try await Self.misbehaving("ok")
        let check = try #require(report.check("quota_group of an unknown type is invalid"))
        #expect(check.outcome == .pass)
        #expect(check.detail == #"provider_type: unknown type "cdd-conformance-no-such-type""#)
        #expect(report.check("destroy a just-created instance")?.outcome == .pass)
        #expect(report.check("list after destroy")?.outcome == .pass)
    }

    @Test func aDriverThatTakesOverLongTagsFails() async throws {
        let report = try await Self.misbehaving("lax_limits")
        let check = try #require(report.check("over-long strings are invalid and not echoed"))
        #expect(check.outcome == .fail)
        #expect(check.detail.hasPrefix("list accepted a"), "\(check.detail)")
        #expect(report.failed == 1, "\(report.table())")
    }

    /// The helper's old rule (nothing into a record smaller than its own) loses every error on
    /// the way to an older host.
    @Test func anErrorLostInAnOlderSmallerRecordFails() async throws {
        let report = try await Self.misbehaving("old_error_fill")
        let check = try #require(report.check("errors fit an older, smaller cdd_error"))
        #expect(check.outcome == .fail)
        #expect(check.detail.contains("got no message"), "\(check.detail)")
    }

    /// Every defined edge case of the ABI, on a driver that keeps them all.
    @Test func aDriverKeepingEveryEdgeCasePassesTheirChecks() async throws {
        let report = try await Self.run("libfixture_idempotent.so", as: "libcdd_idempotent.so", mode: "ok")
        for name in ["open_set refuses unsafe set ids", "over-long strings are invalid and not echoed", "non-UTF-8 requests are invalid",
                     "NULL arguments are invalid", "a call after close_set is invalid", "errors fit an older, smaller cdd_error",
                     "cdd_open twice gives the same table", "another set's ids are left alone", "count above max_create_count is invalid",
                     "a spent token creates nothing"] {
            #expect(report.check(name)?.outcome == .pass, "\(name): \(report.check(name)?.detail ?? "missing")")
        }
    }

    @Test func anIdempotentDriverKeepsItsTokens() async throws {
        let report = try await Self.run("libfixture_idempotent.so", as: "libcdd_idempotent.so", mode: "ok")
        #expect(report.failed == 0 && report.skipped == 0, "\(report.table())")
        #expect(report.check("idempotency token")?.outcome == .pass)
    }

    @Test func aDriverThatDeclaresIdempotenceAndIgnoresTheTokenFails() async throws {
        let report = try await Self.run("libfixture_idempotent.so", as: "libcdd_idempotent.so", mode: "ignore_token")
        let check = try #require(report.check("idempotency token"))
        #expect(check.outcome == .fail)
        #expect(check.detail.hasPrefix("same token gave"), "\(check.detail)")
        #expect(report.check("cleanup")?.outcome == .pass, "the token's extra instances are cleaned up too")
    }
}
