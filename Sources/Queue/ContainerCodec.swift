import Foundation

/// How containers are stored: the whole record as JSON next to the indexed columns.
public enum ContainerCodec {
    public static func encode(_ c: Container) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, enc in
            var single = enc.singleValueContainer()
            try single.encode(Timestamp.format(date))
        }
        return String(decoding: try! encoder.encode(c), as: UTF8.self)
    }

    public static func decode(_ text: String) throws -> Container {
        try decoder.decode(Container.self, from: Data(text.utf8))
    }

    public static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { dec in
            let s = try dec.singleValueContainer().decode(String.self)
            guard let date = Timestamp.parse(s) else {
                throw DecodingError.dataCorrupted(.init(codingPath: dec.codingPath, debugDescription: "bad timestamp \(s)"))
            }
            return date
        }
        return d
    }()
}
