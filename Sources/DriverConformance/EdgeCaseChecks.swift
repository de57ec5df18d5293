import DriverHost

/// The defined edge cases that need instances (docs/driver-abi.md §7a): another set's ids are
/// left alone, `count` above `max_create_count` is refused, a spent token creates nothing.
struct EdgeCaseChecks {
    let creation: CreationChecks
    let first: Instance?

    var session: Session { creation.session }
    var set: NativeInstanceSet { creation.set }
    var calls: PatientCalls { creation.calls }
    var capabilities: Capabilities { creation.capabilities }

    func run() async {
        await session.check("another set's ids are left alone") {
            guard let first else { throw Skip("nothing created") }
            let other = try await session.driver.openNativeInstanceSet(id: session.kit.instanceSetID + "-other", config: session.kit.config)
            do {
                let result = try await other.destroy(ids: [first.id])
                guard result.destroyed == [first.id] else {
                    throw CheckFailure("destroy of another set's \(first.id) gave \(result), expected it reported destroyed")
                }
                do {
                    try await other.setTags(ids: [first.id], tags: ["cdd-conformance-other": "x"])
                    throw CheckFailure("set_tags of another set's \(first.id) succeeded, expected not_found")
                } catch let error as DriverError where error.errorClass == .notFound {}
            } catch {
                await other.close()
                throw error
            }
            await other.close()
            let still = try await calls.list(tags: session.tags)
            guard let mine = still.first(where: { $0.id == first.id }) else {
                throw CheckFailure("\(first.id) is gone after another set's destroy named it")
            }
            guard mine.tags["cdd-conformance-other"] == nil else { throw CheckFailure("another set's set_tags changed \(first.id)") }
            return "another set's destroy reported \(first.id) destroyed and left it; its set_tags gave not_found"
        }

        await session.check("count above max_create_count is invalid") {
            let count = capabilities.maxCreateCount + 1
            guard count <= 100_000 else { throw Skip("max_create_count is the schema's maximum") }
            do {
                let made = try await calls.create(creation.request("too-many", count: count))
                session.remember(made)
                throw CheckFailure("count \(count) above max_create_count made \(made.count) instances")
            } catch let error as DriverError where error.errorClass == .invalid {
                if let problem = RequestChecks.messageProblem(error, fields: ["count"]) { throw CheckFailure("refused with \(problem)") }
                return error.message
            }
        }

        await session.check("a spent token creates nothing") {
            guard capabilities.idempotentCreate else { throw Skip("driver does not declare idempotent_create") }
            let token = "cdd-spent-" + session.runID
            let once = try await calls.create(creation.request("spent", count: 1, token: token))
            session.remember(once)
            let result = try await calls.destroy(ids: once.map(\.id))
            session.forget(result.destroyed)
            var filter = session.tags
            filter["cdd-conformance-case"] = "spent"
            _ = try await creation.listUntil(filter, "the token's instance's removal") { $0.isEmpty }
            do {
                let again = try await calls.create(creation.request("spent", count: 1, token: token))
                session.remember(again)
                throw CheckFailure("the token of destroyed \(once.map(\.id)) made \(again.map(\.id))")
            } catch let error as DriverError where error.errorClass == .invalid {
                if let problem = RequestChecks.messageProblem(error, fields: ["idempotency_token"]) { throw CheckFailure("refused with \(problem)") }
                return "reused after its instance was destroyed: \(error.message)"
            }
        }
    }
}
