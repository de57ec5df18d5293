import DriverHost
import Foundation
import PluginABI

/// The checks of the ABI's limits and defined edge cases that need no instance: unsafe
/// instance-set ids, over-long and non-UTF-8 strings, NULL arguments, a call after close_set,
/// a short error record, cdd_open twice. Most go around the host's own guards on purpose
/// (the daemon never sends these), to see what the driver itself does.
struct ContractChecks {
    let session: Session
    let set: NativeInstanceSet

    var driver: NativeDriver { session.driver }
    var kit: ConformanceKit { session.kit }

    /// Set ids a driver must refuse: each would be a path, not one folder name.
    static let unsafeSetIDs = ["..", ".", "a/b", "../escape", ".hidden", ""]

    /// A string of `count` x's.
    static func long(_ count: Int) -> String { String(repeating: "x", count: count) }

    /// Requests over a limit, each with the field its refusal must name.
    static let overLimit: [RequestChecks.Case] = [
        .init(operation: .list, body: #"{"tags": {"\#(long(Int(CDD_MAX_TAG_KEY) + 1))": "v"}}"#, fields: ["tags"]),
        .init(operation: .list, body: #"{"tags": {"k": "\#(long(Int(CDD_MAX_TAG_VALUE) + 1))"}}"#, fields: ["tags"]),
        .init(operation: .list, body: #"{"tags": {"k": "\#(long(10 << 20))"}}"#, fields: ["tags"]),
        .init(operation: .destroy, body: #"{"ids": ["\#(long(Int(CDD_MAX_INSTANCE_ID) + 1))"]}"#, fields: ["ids"]),
        .init(
            operation: .setTags, body: #"{"ids": ["cdd-conformance-missing-0"], "tags": {"k": "\#(long(Int(CDD_MAX_TAG_VALUE) + 1))"}}"#,
            fields: ["tags"]),
        .init(
            operation: .quotaGroup, body: #"{"provider_type": "\#(long(Int(CDD_MAX_PROVIDER_TYPE) + 1))", "preemptible": false}"#,
            fields: ["provider_type"]),
    ]

    /// Requests that are not UTF-8 (a stray byte, a lone surrogate escape), as raw bytes.
    static let notUTF8: [(DriverOperation, [UInt8])] = [
        (.list, Array(#"{"tags": {"k": "v"#.utf8) + [0xFF, 0xFE] + Array(#""}}"#.utf8)),
        (.list, Array(#"{"tags": {"k": "\ud800"}}"#.utf8)),
        (.quotaGroup, Array(#"{"provider_type": "m"#.utf8) + [0xC0, 0xAF] + Array(#"", "preemptible": false}"#.utf8)),
    ]

    /// An `invalid` refusal whose message holds a long run of the request's filler was echoed.
    static func echoes(_ message: String) -> Bool { message.contains(long(64)) }

    func run() async {
        await session.check("open_set refuses unsafe set ids") {
            for id in Self.unsafeSetIDs {
                let answer = try await driver.probeOpenSet(id: id, config: kit.config)
                guard answer.errorClass == .invalid else {
                    throw CheckFailure("set id \"\(id)\" gave \(answer.errorClass?.name ?? "ok"), expected invalid")
                }
            }
            return "\(Self.unsafeSetIDs.map { "\"\($0)\"" }.joined(separator: " ")) refused as invalid"
        }

        await session.check("over-long strings are invalid and not echoed") {
            for c in Self.overLimit {
                do {
                    _ = try await set.rawCall(c.operation, c.body)
                    throw CheckFailure("\(c.operation.rawValue) accepted a \(c.body.utf8.count)-byte request over a limit")
                } catch let error as DriverError where error.errorClass == .invalid {
                    if Self.echoes(error.message) { throw CheckFailure("\(c.operation.rawValue) echoed the over-long value back") }
                    if let problem = RequestChecks.messageProblem(error, fields: c.fields) {
                        throw CheckFailure("\(c.operation.rawValue) over a limit refused with \(problem)")
                    }
                } catch let error as DriverError {
                    throw CheckFailure("\(c.operation.rawValue) over a limit gave \(error.errorClass.name): \(error.message.prefix(200))")
                }
            }
            return "\(Self.overLimit.count) requests over a limit (tag key, tag value, 10 MB tag value, id, provider_type) refused"
        }

        await session.check("non-UTF-8 requests are invalid") {
            for (operation, bytes) in Self.notUTF8 {
                do {
                    _ = try await set.rawCall(operation, bytes: bytes)
                    throw CheckFailure("\(operation.rawValue) accepted a request that is not UTF-8")
                } catch let error as DriverError where error.errorClass == .invalid {
                    if let problem = RequestChecks.messageProblem(error, fields: []) { throw CheckFailure("refused with \(problem)") }
                } catch let error as DriverError {
                    throw CheckFailure("\(operation.rawValue) not UTF-8 gave \(error.errorClass.name): \(error.message)")
                }
            }
            return "a stray byte, a lone surrogate and an overlong form refused as invalid"
        }

        await session.check("NULL arguments are invalid") {
            for (name, answer) in try await driver.probeNullArguments(set: set) where answer.errorClass != .invalid {
                throw CheckFailure("\(name) gave \(answer.errorClass?.name ?? "ok"), expected invalid")
            }
            return "NULL request, reply pointer, set, set id and error record: invalid, no crash; free_string(NULL), close_set(NULL) harmless"
        }

        await session.check("a call after close_set is invalid") {
            let answer = try await driver.probeCallAfterClose(id: kit.instanceSetID + "-closed", config: kit.config)
            guard answer.errorClass == .invalid else {
                throw CheckFailure("list after close_set gave \(answer.errorClass?.name ?? "ok"), expected invalid")
            }
            return "list after close_set: \(answer.message); a second close_set harmless"
        }

        await session.check("errors fit an older, smaller cdd_error") {
            let messageOffset = MemoryLayout<cdd_error>.offset(of: \cdd_error.message)!
            let codeOffset = MemoryLayout<cdd_error>.offset(of: \cdd_error.provider_code)!
            for size in [messageOffset + 32, codeOffset] {
                let (answer, overran) = try await driver.probeShortErrorRecord(set: set, size: size)
                guard !overran else { throw CheckFailure("a \(size)-byte error record was written past its struct_size") }
                guard answer.errorClass == .invalid else {
                    throw CheckFailure("with a \(size)-byte record the refusal came back as \(answer.errorClass?.name ?? "ok")")
                }
                if size > messageOffset && answer.message.isEmpty {
                    throw CheckFailure("a \(size)-byte record (room for 31 bytes of message) got no message")
                }
            }
            return "class and truncated message arrive in a \(messageOffset + 32)-byte record; nothing written past struct_size"
        }

        await session.check("cdd_open twice gives the same table") {
            if let difference = try await driver.probeReopen() { throw CheckFailure(difference) }
            return "byte-for-byte the same table, driver_ctx included"
        }
    }
}
