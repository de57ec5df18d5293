import Foundation
import Hummingbird
import JSON
import Queue

/// Reading a request: the caller's role, and a JSON body checked against the OpenAPI schema.
struct RequestReader: Sendable {
    let tokens: TokenTable
    let maxBodyBytes: Int

    /// The caller, if their bearer token is known and their role is at least `role`.
    func authorize(_ request: Request, _ role: Role) throws(APIError) -> TokenTable.Entry {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw APIError(.unauthorized, "unauthorized", "send Authorization: Bearer <token>")
        }
        guard let caller = tokens.authenticate(String(header.dropFirst("Bearer ".count))) else {
            throw APIError(.unauthorized, "unauthorized", "unknown token")
        }
        guard caller.role >= role else {
            throw APIError(.forbidden, "forbidden", "token \(caller.name) has role \(caller.role.rawValue); this needs \(role.rawValue)")
        }
        return caller
    }

    /// The body as JSON that satisfies `schema` (a name under components/schemas), decoded.
    func decode<T: Decodable>(_ type: T.Type, _ request: Request, schema: String, emptyAs empty: String? = nil) async throws(APIError) -> T {
        let (value, data) = try await json(request, emptyAs: empty)
        try check(value, against: schema)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw APIError.badRequest("body does not decode as \(schema): \(error)")
        }
    }

    /// The body parsed as JSON (UTF-8, size-limited, content type checked: a body needs
    /// `application/json`). `empty`: the body may be left out, and then reads as this.
    func json(_ request: Request, emptyAs empty: String? = nil) async throws(APIError) -> (JSONValue, Data) {
        let type = request.headers[.contentType]
        if let type, !Self.isJSON(type) {
            throw APIError(.unsupportedMediaType, "unsupported_media_type", "send Content-Type: application/json (got \(type))")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBodyBytes)
        } catch {
            throw APIError(.contentTooLarge, "payload_too_large", "the body is over \(maxBodyBytes) bytes")
        }
        var data = Data(buffer: buffer)
        if data.isEmpty {
            guard let empty else { throw APIError.badRequest("this request needs a JSON body (Content-Type: application/json)") }
            data = Data(empty.utf8)
        } else if type == nil {
            throw APIError(.unsupportedMediaType, "unsupported_media_type", "send Content-Type: application/json (got none)")
        }
        guard String(bytes: data, encoding: .utf8) != nil else { throw APIError.badRequest("the body is not valid UTF-8") }
        do {
            return (try JSONValue(parsing: data), data)
        } catch {
            throw APIError.badRequest("the body is not valid JSON: \(error)")
        }
    }

    /// `application/json`, with parameters or not (`; charset=utf-8`), in any case.
    static func isJSON(_ contentType: String) -> Bool {
        let mediaType = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0]
        return mediaType.trimmingCharacters(in: .whitespaces).lowercased() == "application/json"
    }

    func check(_ value: JSONValue, against schema: String) throws(APIError) {
        let problems = OpenAPIDocument.schemas.validate(value, against: schema)
        guard problems.isEmpty else {
            let details = problems.map { line -> FieldProblem in
                guard let split = line.range(of: ": ") else { return FieldProblem(field: "(body)", rule: line) }
                return FieldProblem(field: String(line[..<split.lowerBound]), rule: String(line[split.upperBound...]))
            }
            throw APIError(.badRequest, "validation_failed", "the request breaks \(details.count) rule(s)", details: details)
        }
    }
}
