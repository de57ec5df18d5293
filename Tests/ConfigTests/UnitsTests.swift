@testable import Config
import Testing

@Suite struct UnitsTests {
    @Test func sizes() {
        #expect(Units.bytes("512MiB") == 512 << 20)
        #expect(Units.bytes("4GiB") == 4 << 30)
        #expect(Units.bytes("2GB") == 2_000_000_000)
        #expect(Units.bytes("1.5GiB") == 3 << 29)
        #expect(Units.bytes(" 8 G ") == 8 << 30)
        #expect(Units.bytes("1000") == 1000)
        #expect(Units.bytes("10B") == 10)
        for bad in ["", "GiB", "-1", "1e3", "inf", "0x10", "1.GiB", "4 gigs", "1..5M", "9223372036854775808"] {
            #expect(Units.bytes(bad) == nil, "\(bad)")
        }
    }

    @Test func durations() {
        #expect(Units.seconds("90s") == 90)
        #expect(Units.seconds("5m") == 300)
        #expect(Units.seconds("1h30m") == 5400)
        #expect(Units.seconds("250ms") == 0.25)
        #expect(Units.seconds("1.5s") == 1.5)
        #expect(Units.seconds("2d") == 172_800)
        #expect(Units.seconds("300") == 300)
        for bad in ["", "s", "5x", "1h30", "-5s", "5 m", "1e3s"] {
            #expect(Units.seconds(bad) == nil, "\(bad)")
        }
    }

    @Test func descriptionsReadBack() {
        #expect(Units.describe(bytes: 1 << 30) == "1GiB")
        #expect(Units.describe(bytes: 1_000_000_000) == "1000000000")
        #expect(Units.describe(bytes: 0) == "0")
        #expect(Units.describe(seconds: 5400) == "1h30m")
        #expect(Units.describe(seconds: 90061) == "1d1h1m1s")
        #expect(Units.describe(seconds: 0) == "0s")
        #expect(Units.describe(seconds: 0.25) == "0.25")
        for bytes: Int64 in [1, 1023, 1024, 3 << 29, 1 << 40, 5_000_000_000] {
            #expect(Units.bytes(Units.describe(bytes: bytes)) == bytes)
        }
        for seconds in [0, 1, 59, 61, 3599, 86401, 5400] {
            #expect(Units.seconds(Units.describe(seconds: Double(seconds))) == Double(seconds))
        }
    }
}
