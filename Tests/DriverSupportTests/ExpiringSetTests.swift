import DriverSupport
import Foundation
import Synchronization
import Testing

/// A clock the test moves by hand.
private final class ManualClock: Sendable {
    private let seconds = Mutex<TimeInterval>(1_000_000)
    func advance(_ by: TimeInterval) { seconds.withLock { $0 += by } }
    var now: Date { Date(timeIntervalSince1970: seconds.withLock { $0 }) }
}

@Suite struct ExpiringSetTests {
    @Test func membersAreForgottenAfterTheirLifetime() {
        let clock = ManualClock()
        let spent = ExpiringSet(lifetime: 86_400, now: { clock.now })
        spent.insert("tok-1")
        clock.advance(86_399)
        #expect(spent.contains("tok-1"))
        clock.advance(1)
        #expect(!spent.contains("tok-1"))
        #expect(spent.count == 0)
    }

    @Test func insertingAgainRestartsTheLifetime() {
        let clock = ManualClock()
        let spent = ExpiringSet(lifetime: 100, now: { clock.now })
        spent.insert("a")
        clock.advance(60)
        spent.insert("a")
        clock.advance(60)
        #expect(spent.contains("a"), "the second insert counts")
        clock.advance(40)
        #expect(!spent.contains("a"))
    }

    @Test func memoryStaysBoundedUnderAStream() {
        let clock = ManualClock()
        let spent = ExpiringSet(lifetime: 10, now: { clock.now })
        for i in 0..<10_000 {
            spent.insert("v-\(i)")
            clock.advance(1)
        }
        #expect(spent.count == 9, "the last 9 seconds' members, the rest forgotten")
        #expect(spent.contains("v-9991") && !spent.contains("v-9990"))
    }
}

@Suite struct PagingAndLimitTests {
    @Test func pagingStopsAtMaxPagesAndAtARepeatedToken() {
        var pages = 0
        do {
            _ = try Paging.all("list", token: "next", maxPages: 3) { _ throws(DriverError) in
                pages += 1
                return ([pages], "t\(pages)")
            }
            Issue.record("an endless list ended")
        } catch {
            #expect(error.errorClass == .transient && error.message.contains("max_pages"))
        }
        #expect(pages == 3)
        do {
            _ = try Paging.all("list", token: "nextLink", maxPages: 10) { _ throws(DriverError) in ([1], "same") }
            Issue.record("a repeated token was followed")
        } catch {
            #expect(error.errorClass == .internal && error.message.contains("repeated nextLink"))
        }
        let all = try? Paging.all("list", token: "next", maxPages: 10) { token throws(DriverError) in
            token == nil ? ([1, 2], "b") : ([3], nil)
        }
        #expect(all == [1, 2, 3])
    }

    @Test func requestsOverTheirLimitsAreRefusedNamingTheField() {
        let longKey = String(repeating: "k", count: 129)
        do {
            _ = try ListRequest.decode(Data(#"{"tags": {"\#(longKey)": "v"}}"#.utf8))
            Issue.record("an over-long tag key passed")
        } catch {
            #expect(error.errorClass == .invalid && error.message.contains("tags key") && !error.message.contains(longKey))
        }
        #expect(throws: DriverError.self) { try DestroyRequest.decode(Data(#"{"ids": []}"#.utf8)) }
        #expect(throws: DriverError.self) { try QuotaGroupRequest.decode(Data(#"{"provider_type": "", "preemptible": false}"#.utf8)) }
        #expect((try? SetTagsRequest.decode(Data(#"{"ids": ["i-1"], "tags": {"k": ""}}"#.utf8)))?.ids == ["i-1"])
    }
}
