import Foundation
import Queue
import Testing

/// Both stores keep create intents: recorded before a create, open until settled, per set.
@Suite struct CreateIntentLogTests {
    @Test(arguments: StoreKind.allCases)
    func intentsAreKeptPerSetUntilSettled(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let log = try #require(store as? any CreateIntentLog)
            let at = Date(timeIntervalSince1970: 1_700_000_000)
            let first = CreateIntent(instanceSet: "a", typeName: "small", count: 3, secret: "s3cr3t", createdAt: at)
            let second = CreateIntent(instanceSet: "a", typeName: "large", count: 1, secret: nil, createdAt: at.addingTimeInterval(1))
            let elsewhere = CreateIntent(instanceSet: "b", typeName: "small", count: 1, secret: nil, createdAt: at)
            for intent in [second, first, elsewhere] { try await log.recordIntent(intent) }
            #expect(try await log.openIntents(instanceSet: "a") == [first, second], "oldest first, this set only")
            await #expect(throws: QueueError.self, "a token is recorded once") { try await log.recordIntent(first) }
            try await log.settleIntent(first.token)
            try await log.settleIntent(first.token)  // settling twice is harmless
            #expect(try await log.openIntents(instanceSet: "a") == [second])
            #expect(try await log.openIntents(instanceSet: "b") == [elsewhere])
        }
    }
}
