import Foundation
import Queue
import Testing

@Suite struct TimestampTests {
    @Test func roundTripsExactly() {
        for _ in 0..<2000 {
            let d = Timestamp.date(milliseconds: Timestamp.milliseconds(Timestamp.now()) + Int64.random(in: -10_000_000_000...10_000_000_000))
            let s = Timestamp.format(d)
            #expect(Timestamp.parse(s) == d, "\(s)")
            #expect(Timestamp.format(Timestamp.parse(s)!) == s)
        }
    }

    @Test func formatsRFC3339WithMilliseconds() {
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_764_396_000.5)) == "2025-11-29T06:00:00.500Z")
        #expect(Timestamp.parse("2025-11-29T06:00:00Z") == Date(timeIntervalSince1970: 1_764_396_000))
        #expect(Timestamp.parse("2025-11-29T06:00:00.25Z") == Date(timeIntervalSince1970: 1_764_396_000.25))
        #expect(Timestamp.parse("yesterday") == nil)
    }

    @Test func ourOwnFormatIsReadAsFoundationReadsIt() throws {
        for _ in 0..<500 {
            let d = Timestamp.date(milliseconds: Int64.random(in: 0...4_000_000_000_000))
            let s = Timestamp.format(d)
            let foundation = try Date(String(s.prefix(19)) + "Z", strategy: .iso8601).addingTimeInterval(Double(Int(s.dropFirst(20).prefix(3))!) / 1000)
            #expect(Timestamp.parse(s) == Timestamp.date(milliseconds: Timestamp.milliseconds(foundation)), "\(s)")
        }
        #expect(Timestamp.parse("2024-02-29T23:59:59.999Z") == Date(timeIntervalSince1970: 1_709_251_199.999))
        for impossible in ["2025-02-29T00:00:00.000Z", "2025-04-31T00:00:00.000Z", "2025-13-01T00:00:00.000Z",
                           "2025-11-29T24:00:00.000Z", "2025-11-29T06:60:00.000Z", "2025-11-29T06:00:00.0x0Z"] {
            #expect(Timestamp.parse(impossible) == nil, "\(impossible)")
        }
    }
}
