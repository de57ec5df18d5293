/// Typed access to an instance set's config object, with the key's name in every complaint.
///
///     let r = try ConfigReader(parsing: text, keys: ["region", "image"], docs: "docs/drivers/ec2.md")
///     let region = try r.string("region")   // nil when absent; `invalid` when not a non-empty string
public struct ConfigReader: Sendable {
    public let object: [String: JSONValue]

    public init(object: [String: JSONValue]) { self.object = object }

    /// The config text as an object whose every key is one of `keys`; `docs` is named for an unknown one.
    public init(parsing text: String, keys: Set<String>, docs: String) throws(DriverError) {
        guard case .object(let object)? = JSONValue.parse(text) else { throw .invalid("config must be a JSON object") }
        if let unknown = object.keys.sorted().first(where: { !keys.contains($0) }) {
            throw .invalid("config: unknown key \"\(unknown)\" (see \(docs))")
        }
        self.object = object
    }

    public func string(_ key: String) throws(DriverError) -> String? {
        guard let v = object[key] else { return nil }
        guard case .string(let s) = v, !s.isEmpty else { throw .invalid("config.\(key): expected a non-empty string") }
        return s
    }

    public func url(_ key: String) throws(DriverError) -> String? {
        guard let s = try string(key) else { return nil }
        guard s.hasPrefix("https://") || s.hasPrefix("http://") else { throw .invalid("config.\(key): must be an http(s) URL") }
        return s
    }

    public func bool(_ key: String) throws(DriverError) -> Bool? {
        guard let v = object[key] else { return nil }
        guard case .bool(let b) = v else { throw .invalid("config.\(key): expected true or false") }
        return b
    }

    public func int(_ key: String, _ range: ClosedRange<Int>) throws(DriverError) -> Int? {
        guard let v = object[key] else { return nil }
        guard case .number(let n) = v, n == n.rounded(), n >= Double(range.lowerBound), n <= Double(range.upperBound) else {
            throw .invalid("config.\(key): expected an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return Int(n)
    }

    public func strings(_ key: String) throws(DriverError) -> [String]? {
        guard let v = object[key] else { return nil }
        guard case .array(let list) = v else { throw .invalid("config.\(key): expected a list of non-empty strings") }
        var out: [String] = []
        for item in list {
            guard case .string(let s) = item, !s.isEmpty else { throw .invalid("config.\(key): expected a list of non-empty strings") }
            out.append(s)
        }
        return out
    }

    /// Prices by instance type: numbers from 0 up.
    public func prices(_ key: String) throws(DriverError) -> [String: Double]? {
        try map(key) { if case .number(let n) = $0, n >= 0 { n } else { nil } }
    }

    public func map<T>(_ key: String, _ convert: (JSONValue) -> T?) throws(DriverError) -> [String: T]? {
        guard let v = object[key] else { return nil }
        guard case .object(let dict) = v else { throw .invalid("config.\(key): expected an object") }
        var out: [String: T] = [:]
        for (k, raw) in dict {
            guard let value = convert(raw) else { throw .invalid("config.\(key).\(k): wrong type") }
            out[k] = value
        }
        return out
    }
}
