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
}
