import Foundation

/// JSON coding for driver payloads, with sorted keys for stable output.
enum DriverJSON {
    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding our own plain structs cannot fail.
        return String(decoding: try! encoder.encode(value), as: UTF8.self)
    }
}
