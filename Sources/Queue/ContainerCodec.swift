import Foundation

/// How containers are stored: the whole record as JSON next to the indexed columns.
public enum ContainerCodec {
    public static func encode(_ c: Container) -> String {
        String(decoding: try! encoder.encode(c), as: UTF8.self)
    }

    /// Many containers, split over the cores when there are enough to pay for it: encoding is
    /// most of a batch submit's time (~30 µs a container; the database inserts 1,000 in ~12 ms).
    public static func encode(_ containers: [Container]) async -> [String] {
        let parts = min(ProcessInfo.processInfo.activeProcessorCount, containers.count / 128)
        guard parts > 1 else { return containers.map(encode) }
        let size = (containers.count + parts - 1) / parts
        return await withTaskGroup(of: (Int, [String]).self) { group in
            for start in stride(from: 0, to: containers.count, by: size) {
                let part = containers[start..<min(start + size, containers.count)]
                group.addTask { (start, part.map(encode)) }
            }
            var docs = [String](repeating: "", count: containers.count)
            for await (start, part) in group { docs.replaceSubrange(start..<start + part.count, with: part) }
            return docs
        }
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .custom { date, enc in
            var single = enc.singleValueContainer()
            try single.encode(Timestamp.format(date))
        }
        return e
    }()

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
