import Testing
import Units

@Suite struct UnitsTests {
    @Test func sizes() throws {
        #expect(try Units.bytes("512MiB") == 512 << 20)
        #expect(try Units.bytes("4GiB") == 4 << 30)
        #expect(try Units.bytes("2GB") == 2_000_000_000)
        #expect(try Units.bytes("1.5GiB") == 3 << 29)
        #expect(try Units.bytes(" 8 G ") == 8 << 30)
        #expect(try Units.bytes("1000") == 1000)
        #expect(try Units.bytes("10B") == 10)
        #expect(try Units.bytes("8589934591GiB") == 9_223_372_035_781_033_984)  // just below Int64.max
    }

    /// What `Double.init` takes but a size is not: each would have reached `Int64(_:)` and trapped,
    /// or meant something nobody writes on purpose.
    @Test func garbageIsNotASize() {
        for bad in ["", "GiB", "-1", "-1GiB", "+1GiB", "1e3", "1e19B", "inf", "infGiB", "nan", "nanGiB", "-infGiB", "0x10",
                    "1.GiB", ".5GiB", "4 gigs", "1..5M", "lots", "1,5GiB", "１GiB"] {
            #expect(throws: UnitsProblem.notASize(bad), "\(bad)") { try Units.bytes(bad) }
        }
    }

    @Test func sizesBeyondInt64AreTooLarge() {
        for big in ["9223372036854775808", "99999999999999999999GiB", "99999999999999999999", "8589934592GiB",
                    "9999999999999.5TiB", "99999999TiB"] {
            #expect(throws: UnitsProblem.self, "\(big)") { try Units.bytes(big) }
            #expect((try? Units.bytes(big)) == nil)
        }
        #expect(throws: UnitsProblem.tooLarge("99999999999999999999GiB", limit: "8EiB")) { try Units.bytes("99999999999999999999GiB") }
        #expect(throws: UnitsProblem.tooLarge("9999999999999.5TiB", limit: "8EiB")) { try Units.bytes("9999999999999.5TiB") }
    }

    @Test func durations() throws {
        #expect(try Units.seconds("90s") == 90)
        #expect(try Units.seconds("5m") == 300)
        #expect(try Units.seconds("1h30m") == 5400)
        #expect(try Units.seconds("250ms") == 0.25)
        #expect(try Units.seconds("1.5s") == 1.5)
        #expect(try Units.seconds("2d") == 172_800)
        #expect(try Units.seconds("300") == 300)
        for bad in ["", "s", "5x", "1h30", "-5s", "5 m", "1e3s", "infs", "nan", "inf", "-1"] {
            #expect(throws: UnitsProblem.notADuration(bad), "\(bad)") { try Units.seconds(bad) }
        }
        for big in ["99999999999999999999d", "99999999999999999999", "11574074075d"] {
            #expect(throws: UnitsProblem.tooLarge(big, limit: "11574074074d"), "\(big)") { try Units.seconds(big) }
        }
    }

    @Test func wholeSeconds() throws {
        #expect(try Units.wholeSeconds("2h") == 7200)
        #expect(try Units.wholeSeconds("1d") == 86400)
        #expect(throws: UnitsProblem.notWholeSeconds("1.5s")) { try Units.wholeSeconds("1.5s") }
        #expect(throws: UnitsProblem.self) { try Units.wholeSeconds("99999999999999999999d") }
    }

    @Test func problemsSayWhatWouldDo() {
        #expect(UnitsProblem.notASize("infGiB").description
            == "\"infGiB\" is not a size (bytes, or a number with B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)")
        #expect(UnitsProblem.tooLarge("99999999999999999999GiB", limit: "8EiB").description
            == "\"99999999999999999999GiB\" is too large (at most 8EiB)")
        #expect(UnitsProblem.notADuration(String(repeating: "x", count: 100)).description.hasPrefix("\"" + String(repeating: "x", count: 60) + "…\""))
    }

    @Test func descriptionsReadBack() throws {
        #expect(Units.describe(bytes: 1 << 30) == "1GiB")
        #expect(Units.describe(bytes: 1_000_000_000) == "1000000000")
        #expect(Units.describe(bytes: 0) == "0")
        #expect(Units.describe(seconds: 5400) == "1h30m")
        #expect(Units.describe(seconds: 90061) == "1d1h1m1s")
        #expect(Units.describe(seconds: 0) == "0s")
        #expect(Units.describe(seconds: 0.25) == "0.25")
        for bytes: Int64 in [1, 1023, 1024, 3 << 29, 1 << 40, 5_000_000_000, .max] {
            #expect(try Units.bytes(Units.describe(bytes: bytes)) == bytes)
        }
        for seconds in [0, 1, 59, 61, 3599, 86401, 5400] {
            #expect(try Units.seconds(Units.describe(seconds: Double(seconds))) == Double(seconds))
        }
    }

    @Test func briefIsForTables() {
        #expect(Units.brief(bytes: 1 << 30) == "1GiB")
        #expect(Units.brief(bytes: 1_500_000) == "1.4MiB")
        #expect(Units.brief(bytes: 512) == "512B")
        #expect(Units.brief(seconds: 42) == "42s")
        #expect(Units.brief(seconds: 3725) == "1h2m")
        #expect(Units.brief(seconds: 90061) == "1d1h")
    }

    @Test func helpers() {
        #expect("7".leftPadded(to: 3, with: "0") == "007")
        #expect("42".leftPadded(to: 5) == "   42")
        #expect("toolong".leftPadded(to: 3) == "toolong")
        #expect(Duration.milliseconds(2500).inSeconds == 2.5)
        #expect(Duration.seconds(1.9999).inMilliseconds == 1999)
        #expect(Duration.seconds(-1).inSeconds == -1)
    }
}
