import Foundation
import Synchronization

/// Turns a validated spec into a new Queued container with a fresh uuid.
public enum ContainerFactory {
    public static func make(_ spec: ContainerSpec, now: Date) -> Container {
        Container(
            uuid: UUIDGenerator.shared.next(now: now), state: .queued, priority: spec.priority, command: spec.command,
            containerImage: spec.containerImage, environment: spec.environment, cwd: spec.cwd,
            runtimeConstraints: spec.runtimeConstraints, schedulingParameters: spec.schedulingParameters,
            lockedBy: nil, lockCount: 0, startedAt: nil, finishedAt: nil, exitCode: nil, runtimeStatus: RuntimeStatus(),
            log: nil, cost: 0, instance: nil, createdAt: now, modifiedAt: now, clientRequestID: spec.clientRequestID)
    }

    /// Checks every spec; throws all problems at once, each prefixed with its batch index.
    public static func validate(_ specs: [ContainerSpec]) throws(QueueError) {
        var problems: [FieldProblem] = []
        for (i, spec) in specs.enumerated() {
            for p in spec.problems() {
                problems.append(specs.count == 1 ? p : FieldProblem(field: "[\(i)].\(p.field)", rule: p.rule))
            }
        }
        if specs.isEmpty { problems.append(FieldProblem(field: "(body)", rule: "at least one container")) }
        if !problems.isEmpty { throw .validation(problems) }
    }

    /// The spec a stored container was submitted with, to compare a repeated request.
    public static func spec(of c: Container) -> ContainerSpec {
        ContainerSpec(command: c.command, containerImage: c.containerImage, environment: c.environment, cwd: c.cwd,
                      priority: c.priority, runtimeConstraints: c.runtimeConstraints,
                      schedulingParameters: c.schedulingParameters, clientRequestID: c.clientRequestID)
    }
}

/// Container uuids: "ctr-" + 26 characters of Crockford base32 (48 bits of milliseconds, 80
/// bits that count up within a millisecond), so they sort in submit order.
public final class UUIDGenerator: Sendable {
    public static let shared = UUIDGenerator()
    private static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz")
    private let state = Mutex<(ms: UInt64, high: UInt16, low: UInt64)>((0, 0, 0))

    public func next(now: Date) -> String {
        let ms = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        let (t, high, low) = state.withLock { s -> (UInt64, UInt16, UInt64) in
            if ms > s.ms {
                s = (ms, UInt16.random(in: 0...0x7fff), UInt64.random(in: 0...UInt64.max >> 1))
            } else {
                // Same (or an earlier) millisecond: count up, so order still follows submission.
                let (sum, overflow) = s.low.addingReportingOverflow(1)
                s.low = sum
                if overflow { s.high &+= 1 }
            }
            return (s.ms, s.high, s.low)
        }
        // 128 bits: 48 of time, 16 + 64 of sequence; 26 base32 digits hold 130.
        var digits = [Character](repeating: "0", count: 26)
        var hi = (t << 16) | UInt64(high)  // top 64 bits
        var lo = low                        // bottom 64 bits
        for i in stride(from: 25, through: 0, by: -1) {
            digits[i] = Self.alphabet[Int(lo & 31)]
            lo = (lo >> 5) | ((hi & 31) << 59)
            hi >>= 5
        }
        return "ctr-" + String(digits)
    }

    /// Whether `s` has the shape of a container uuid (cheap check before a lookup).
    public static func isWellFormed(_ s: String) -> Bool {
        s.hasPrefix("ctr-") && s.utf8.count == 30 && s.dropFirst(4).allSatisfy { alphabet.contains($0) }
    }
}

/// Fans a wake-up out to every `changes()` stream.
public final class ChangeNotifier: Sendable {
    private let continuations = Mutex<[UInt64: AsyncStream<Void>.Continuation]>([:])
    private let counter = Mutex<UInt64>(0)

    public init() {}

    public func stream() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = counter.withLock { $0 += 1; return $0 }
        continuations.withLock { $0[id] = continuation }
        continuation.onTermination = { [weak self] _ in self?.continuations.withLock { _ = $0.removeValue(forKey: id) } }
        return stream
    }

    public func notify() {
        for c in continuations.withLock({ Array($0.values) }) { c.yield() }
    }

    public func finish() {
        for c in continuations.withLock({ Array($0.values) }) { c.finish() }
    }
}

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

/// RFC 3339 timestamps with milliseconds, in UTC ("2026-11-29T06:00:00.123Z"). Dates are kept
/// as whole milliseconds, so what a store writes reads back equal.
public enum Timestamp {
    /// Now, to the millisecond.
    public static func now() -> Date { date(milliseconds: milliseconds(Date())) }

    public static func format(_ date: Date) -> String {
        let ms = milliseconds(date)
        var seconds = time_t(ms.floorDivided(by: 1000))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let fraction = Int(ms - Int64(seconds) * 1000)
        func pad(_ n: Int32, _ width: Int) -> String { String(n).leftPadded(width) }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(String(fraction).leftPadded(3))Z"
    }

    public static func parse(_ s: String) -> Date? {
        switch parseOwnFormat(s) {
        case .moment(let date): return date
        case .impossible: return nil
        case .notOurs: break
        }
        // Whole seconds through Foundation, the fraction (any precision) by hand.
        var whole = s
        var ms: Int64 = 0
        if let dot = s.firstIndex(of: "."), let zone = s[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" }) {
            let digits = s[s.index(after: dot)..<zone].prefix(3)
            guard digits.allSatisfy(\.isNumber) else { return nil }
            ms = Int64(digits.padding(toLength: 3, withPad: "0", startingAt: 0)) ?? 0
            whole = String(s[..<dot]) + String(s[zone...])
        }
        guard let date = try? Date(whole, strategy: .iso8601) else { return nil }
        return self.date(milliseconds: Int64(date.timeIntervalSince1970.rounded()) * 1000 + ms)
    }

    /// Exactly what `format` writes ("2026-11-29T11:48:29.123Z") is read by hand: reading the
    /// queue parses several dates per container, and Foundation's general ISO 8601 parser was
    /// a tenth of a scheduling round. Other forms are left to Foundation.
    enum OwnFormat {
        case notOurs
        /// In this form, but no real moment ("2025-02-29T…", "…T24:00…").
        case impossible
        case moment(Date)
    }

    static func parseOwnFormat(_ s: String) -> OwnFormat {
        s.utf8.withContiguousStorageIfAvailable { b -> OwnFormat in
            guard b.count == 24, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T"),
                  b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"), b[19] == UInt8(ascii: "."), b[23] == UInt8(ascii: "Z")
            else { return .notOurs }
            func number(_ range: Range<Int>) -> Int32? {
                var n: Int32 = 0
                for i in range {
                    let digit = b[i] &- UInt8(ascii: "0")
                    guard digit < 10 else { return nil }
                    n = n * 10 + Int32(digit)
                }
                return n
            }
            guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hour = number(11..<13),
                  let minute = number(14..<16), let second = number(17..<19), let ms = number(20..<23),
                  hour < 24, minute < 60, second < 60 else { return .impossible }
            var parts = tm()
            (parts.tm_year, parts.tm_mon, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec) = (year - 1900, month - 1, day, hour, minute, second)
            var seconds = timegm(&parts)
            // timegm moves 31 February to March: a date that moved did not exist.
            var check = tm()
            gmtime_r(&seconds, &check)
            guard check.tm_mon == month - 1, check.tm_mday == day else { return .impossible }
            return .moment(date(milliseconds: Int64(seconds) * 1000 + Int64(ms)))
        } ?? .notOurs
    }

    public static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    public static func date(milliseconds ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }
}

extension Int64 {
    func floorDivided(by d: Int64) -> Int64 { self >= 0 ? self / d : -((-self + d - 1) / d) }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
