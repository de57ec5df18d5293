import Foundation
import SimCore
import Testing

/// The faults that prove the host's cloud writes: each one, alone, at rate 1.
@Suite struct SimFaultTests {
    func cloud(_ config: String) throws -> SimCloud {
        SimCloud(setID: "t", config: try SimConfig.parse(Data(config.utf8)))
    }

    func create(_ cloud: SimCloud, count: Int = 1, token: String? = nil) throws -> [String] {
        let tokenPart = token.map { #", "idempotency_token": "\#($0)""# } ?? ""
        let reply = try cloud.create(Data(#"{"instance_type": {"provider_type": "sim.small"}, "tags": {"a": "1"}, "count": \#(count)\#(tokenPart)}"#.utf8))
        let object = try JSONSerialization.jsonObject(with: reply) as! [String: Any]
        return (object["instances"] as! [[String: Any]]).map { $0["id"] as! String }
    }

    func listed(_ cloud: SimCloud) throws -> [String] {
        let object = try JSONSerialization.jsonObject(with: try cloud.list(Data(#"{"tags": {}}"#.utf8))) as! [String: Any]
        return (object["instances"] as! [[String: Any]]).map { $0["id"] as! String }
    }

    func destroy(_ cloud: SimCloud, _ ids: [String]) throws {
        _ = try cloud.destroy(try JSONSerialization.data(withJSONObject: ["ids": ids]))
    }

    /// Without the fault the caller would see the instances; with it, a transient error while the
    /// instances exist, and a resend with the token returns them (then loses that answer too).
    @Test func aLostAnswerActsThenReportsTransient() throws {
        let c = try cloud(#"{"lost_answer_rate": 1}"#)
        #expect(throws: SimError.transient("connection reset after the cloud acted (simulated lost answer)")) { try create(c, count: 2, token: "t") }
        let made = try listed(c)
        #expect(made.count == 2)
        #expect(throws: SimError.self) { try create(c, count: 2, token: "t") }
        #expect(try listed(c) == made, "a resend with the token makes nothing new")
        #expect(throws: SimError.self) { try destroy(c, made) }
        #expect(try listed(c).isEmpty, "the destroy acted")
    }

    /// A hang is the host's call timeout, answered at once (the sim must not sleep on a virtual
    /// clock): `internal` "no reply within", after acting or before, both seen over a few calls.
    @Test func aHangIsAnInternalNoReplyAfterOrBeforeActing() throws {
        let c = try cloud(#"{"hang_rate": 1, "hang_seconds": 90}"#)
        var acted = 0, notActed = 0
        for i in 0..<20 {
            let before = try listed(c).count
            #expect { _ = try create(c, token: "t\(i)") } throws: { error in
                guard case .internal(let m)? = error as? SimError else { return false }
                return m.hasPrefix("no reply within 90 s (simulated hang")
            }
            if try listed(c).count > before { acted += 1 } else { notActed += 1 }
        }
        #expect(acted > 0 && notActed > 0, "acted \(acted), not \(notActed)")
    }

    /// Eventual consistency: the destroy says the instance does not exist, and it still does.
    @Test func destroyNotFoundLeavesTheInstance() throws {
        let c = try cloud(#"{"destroy_not_found_rate": 1}"#)
        let made = try create(c)
        #expect { try destroy(c, made) } throws: { error in
            guard case .notFound(let m)? = error as? SimError else { return false }
            return m.hasPrefix("no instance \(made[0])")
        }
        #expect(try listed(c) == made)
    }

    /// An outage of the credentials starts on a listing, refuses every call, and heals after
    /// `auth_failure_lists` refused listings.
    @Test func authFailuresHealAfterSomeListings() throws {
        let c = try cloud(#"{"auth_failure_rate": 1, "auth_failure_lists": 2}"#)
        let made = try create(c)
        #expect(throws: SimError.auth("simulated credentials failure (it heals after a few listings)")) { try listed(c) }
        #expect(throws: SimError.self) { try create(c) }
        #expect(throws: SimError.self) { try destroy(c, made) }
        #expect(throws: SimError.self) { try listed(c) }
        #expect(c.authRefusedListings == 2)
        // Healed: the next call works (the rate of 1 starts a new outage at the next listing).
        #expect(try create(c).count == 1)

        let once = try cloud(#"{"auth_failure_rate": 0.3, "auth_failure_lists": 1, "seed": 3}"#)
        let outcomes = (0..<40).map { _ in (try? listed(once)) != nil }
        #expect(outcomes.contains(true) && outcomes.contains(false))
    }

    @Test(arguments: [
        (#"{"lost_answer_rate": 1.5}"#, "config: failure rates are probabilities from 0 to 1"),
        (#"{"hang_seconds": -1}"#, "config: max_instances, retry_after_ms and hang_seconds must not be negative"),
        (#"{"auth_failure_lists": 0}"#, "config: auth_failure_lists must be at least 1"),
        (#"{"never_boot_types": ["sim.small"]}"#, "config: unknown key \"never_boot_types\""),
    ])
    func badFaultConfigsNameTheProblem(config: String, message: String) {
        #expect { _ = try SimConfig.parse(Data(config.utf8)) } throws: { error in
            guard case .invalid(let text)? = error as? SimError else { return false }
            return text.hasPrefix(message)
        }
    }
}
