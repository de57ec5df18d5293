import DriverHost
import Foundation

/// The checks that send requests a driver must refuse as `invalid`, with a message an
/// operator can act on: not empty, and naming the offending field.
struct RequestChecks {
    let session: Session
    let set: NativeInstanceSet

    /// A malformed request, and the fields of which its refusal must name one (none for a
    /// request that is not even a JSON object).
    struct Case {
        let operation: DriverOperation
        let body: String
        let fields: [String]
    }

    static let malformed: [Case] = [
        Case(operation: .create, body: "not json", fields: []),
        Case(operation: .create, body: "{}", fields: ["instance_type", "tags", "count"]),
        Case(operation: .create, body: #"{"instance_type": 7, "tags": {}, "count": 1}"#, fields: ["instance_type"]),
        Case(operation: .list, body: "[]", fields: []),
        Case(operation: .list, body: #"{"tags": "x"}"#, fields: ["tags"]),
        Case(operation: .destroy, body: #"{"ids": "x"}"#, fields: ["ids"]),
        Case(operation: .destroy, body: "{}", fields: ["ids"]),
        Case(operation: .setTags, body: "{}", fields: ["ids", "tags"]),
        Case(operation: .quotaGroup, body: "{}", fields: ["provider_type", "preemptible"]),
    ]

    /// What is wrong with an `invalid` error's message, or nil when it names one of `fields`.
    static func messageProblem(_ error: DriverError, fields: [String]) -> String? {
        // The host stands "(no message)" in for an empty one.
        let message = error.message == "(no message)" ? "" : error.message
        if message.trimmingCharacters(in: .whitespaces).isEmpty { return "an empty message" }
        if !fields.isEmpty && !fields.contains(where: { message.contains($0) }) {
            return "message \"\(message)\" names none of \(fields.joined(separator: ", "))"
        }
        return nil
    }

    func run() async {
        await session.check("malformed requests are invalid") {
            for c in Self.malformed {
                do {
                    _ = try await set.rawCall(c.operation, c.body)
                    throw CheckFailure("\(c.operation.rawValue) accepted \(c.body)")
                } catch let error as DriverError where error.errorClass == .invalid {
                    if let problem = Self.messageProblem(error, fields: c.fields) {
                        throw CheckFailure("\(c.operation.rawValue) \(c.body) refused with \(problem)")
                    }
                } catch let error as DriverError {
                    throw CheckFailure("\(c.operation.rawValue) \(c.body) gave \(error.errorClass.name): \(error.message)")
                }
            }
            return "\(Self.malformed.count) malformed requests refused as invalid, each message naming the field"
        }

        await session.check("quota_group of an unknown type is invalid") {
            let unknown = "cdd-conformance-no-such-type"
            do {
                let group = try await set.quotaGroup(providerType: unknown, preemptible: false)
                throw CheckFailure("type \(unknown), in no catalogue, counts against \"\(group)\"")
            } catch let error as DriverError where error.errorClass == .invalid {
                if let problem = Self.messageProblem(error, fields: [unknown, "provider_type"]) {
                    throw CheckFailure("refused with \(problem)")
                }
                return error.message
            } catch let error as DriverError {
                throw CheckFailure("gave \(error.errorClass.name): \(error.message)")
            }
        }
    }
}
