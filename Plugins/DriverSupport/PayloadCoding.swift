import Foundation

/// Request and reply bodies to and from the payload types, one way for every driver.
public enum Payload {
    public static func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws(DriverError) -> T {
        do { return try JSONDecoder().decode(T.self, from: data) } catch {
            throw .invalid("request: \(describe(error))")
        }
    }

    /// Compact, keys sorted, slashes left alone.
    public static func encode<T: Encodable>(_ value: T) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }

    /// A decoding error in one line, naming the member.
    public static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, let ctx)?: "missing \(path(ctx.codingPath + [key]))"
        case .typeMismatch(_, let ctx)?, .valueNotFound(_, let ctx)?: "wrong type at \(path(ctx.codingPath))"
        case .dataCorrupted(let ctx)?: ctx.codingPath.isEmpty ? "not a JSON object" : "bad value at \(path(ctx.codingPath))"
        default: "\(error)"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "(top)" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}
