import Foundation
import Synchronization

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
        var lo = low  // bottom 64 bits
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
