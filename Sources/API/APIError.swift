import Foundation
import Hummingbird
import Queue

/// The one error shape of the API: `{"error": {"code", "message", "details"?}}`.
public struct APIError: Error, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var details: [FieldProblem]

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, details: [FieldProblem] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
    }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "bad_request", message) }

    /// How each queue refusal reads over HTTP.
    init(_ error: QueueError) {
        switch error {
        case .notFound: self.init(.notFound, "not_found", error.description)
        case .invalidTransition: self.init(.conflict, "invalid_transition", error.description)
        case .notLockHolder: self.init(.conflict, "not_lock_holder", error.description)
        case .validation(let problems): self.init(.badRequest, "validation_failed", "the request breaks \(problems.count) rule(s)", details: problems)
        case .conflict(let message): self.init(.conflict, "conflict", message)
        case .unavailable(let message): self.init(.serviceUnavailable, "unavailable", message)
        case .fenced: self.init(.conflict, "fenced", error.description)
        }
    }

    struct Body: Encodable {
        struct Inner: Encodable {
            var code: String
            var message: String
            var details: [FieldProblem]?
        }
        var error: Inner
    }

    func response() -> Response {
        let body = Body(error: .init(code: code, message: message, details: details.isEmpty ? nil : details))
        var response = JSONBody.response(status, body)
        if status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
        // The rest of an oversized body is not worth reading: the connection closes (CloseAfterResponse).
        if status == .contentTooLarge { response.headers[.connection] = "close" }
        return response
    }
}

/// JSON in and out.
enum JSONBody {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .custom { date, enc in
            var c = enc.singleValueContainer()
            try c.encode(Timestamp.format(date))
        }
        return e
    }()

    static func response<T: Encodable>(_ status: HTTPResponse.Status, _ value: T) -> Response {
        let data = (try? encoder.encode(value)) ?? Data(#"{"error":{"code":"internal","message":"encoding failed"}}"#.utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension APIError: HTTPResponseError {
    public func response(from request: Request, context: some RequestContext) throws -> Response { response() }
}
