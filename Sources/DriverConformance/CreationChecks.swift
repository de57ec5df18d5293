import DriverHost

/// The checks that create instances: create, list, idempotency, tag filters, set_tags,
/// concurrency, destroy. Every id a create returns is remembered for cleanup until a check
/// destroys it.
struct CreationChecks {
    let session: Session
    let set: NativeInstanceSet
    let type: CatalogInstanceType
    let capabilities: Capabilities

    var kit: ConformanceKit { session.kit }
    /// The set's calls, waiting out throttling (see `PatientCalls`).
    var calls: PatientCalls { PatientCalls(set: set, delay: kit.retryDelay, patience: kit.settle) }

    func request(_ testCase: String, count: Int, token: String? = nil) -> CreateRequest {
        var tags = session.tags
        tags["cdd-conformance-case"] = testCase
        let spec = InstanceTypeSpec(
            name: "conformance-" + type.providerType, providerType: type.providerType,
            vcpus: type.vcpus, ram: type.ram, scratch: type.scratch, gpu: type.gpu,
            preemptible: false, price: type.price ?? 0)
        return CreateRequest(
            instanceType: spec, image: kit.image, tags: tags,
            initScript: "#!/bin/sh\necho cloud-dispatch conformance\n",
            sshPublicKey: nil, count: count, idempotencyToken: token)
    }

    /// Lists with `filter` until `accept` holds or the settle time passes.
    func listUntil(_ filter: [String: String], _ what: String, _ accept: ([Instance]) -> Bool) async throws -> [Instance] {
        let deadline = ContinuousClock.now + kit.settle
        while true {
            let found = try await calls.list(tags: filter)
            if accept(found) { return found }
            if ContinuousClock.now >= deadline { throw CheckFailure("\(what) not seen in list within \(kit.settle)") }
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    func requireExactTags(_ instances: [Instance], _ expected: [String: String]) throws {
        for instance in instances where instance.tags != expected {
            let missing = expected.filter { instance.tags[$0.key] != $0.value }.keys.sorted()
            let extra = instance.tags.keys.filter { expected[$0] == nil }.sorted()
            throw CheckFailure("\(instance.id) has tags differing from the request (missing or wrong: \(missing), extra: \(extra))")
        }
    }

    func run() async {
        let single = request("single", count: 1)
        var first: Instance?
        await session.check("create count=1") {
            let made = try await calls.create(single)
            session.remember(made)
            guard made.count == 1 else { throw CheckFailure("asked for 1, got \(made.count)") }
            try requireExactTags(made, single.tags)
            first = made[0]
            return "\(made[0].id) \(made[0].state.rawValue) at \(made[0].address.isEmpty ? "(no address yet)" : made[0].address)"
        }
        await session.check("list shows it with exactly its tags") {
            guard let first else { throw Skip("nothing created") }
            let found = try await listUntil(single.tags, first.id) { $0.contains { $0.id == first.id } }
            try requireExactTags(found.filter { $0.id == first.id }, single.tags)
            return "\(found.count) instance listed"
        }

        let wanted = min(3, capabilities.maxCreateCount)
        let triple = request("triple", count: wanted)
        await session.check("create count=\(wanted)") {
            let made = try await calls.create(triple)
            session.remember(made)
            guard made.count == wanted else { throw CheckFailure("asked for \(wanted), got \(made.count)") }
            guard Set(made.map(\.id)).count == wanted else { throw CheckFailure("duplicate ids in \(made.map(\.id))") }
            try requireExactTags(made, triple.tags)
            let ids = Set(made.map(\.id))
            _ = try await listUntil(triple.tags, "all \(wanted)") { Set($0.map(\.id)).isSuperset(of: ids) }
            return made.map(\.id).joined(separator: " ")
        }

        await session.check("idempotency token") {
            guard capabilities.idempotentCreate else { throw Skip("driver does not declare idempotent_create") }
            // Two instances, so a driver that keys its memory on the first instance alone fails too.
            let count = min(2, capabilities.maxCreateCount)
            let token = "cdd-" + session.runID
            let once = try await calls.create(request("idempotent", count: count, token: token))
            session.remember(once)
            let again = try await calls.create(request("idempotent", count: count, token: token))
            session.remember(again)
            guard Set(once.map(\.id)) == Set(again.map(\.id)) else {
                throw CheckFailure("same token gave \(once.map(\.id)) then \(again.map(\.id))")
            }
            var filter = session.tags
            filter["cdd-conformance-case"] = "idempotent"
            let listed = try await listUntil(filter, "the token's instances") { Set($0.map(\.id)).isSuperset(of: once.map(\.id)) }
            guard listed.count == once.count else {
                throw CheckFailure("\(listed.count) instances exist for one token asking for \(once.count)")
            }
            return "repeat returned \(once.map(\.id).joined(separator: " ")) again"
        }

        await session.check("tag filter excludes others") {
            var otherSet = session.tags
            otherSet[ConformanceKit.setTag] = kit.instanceSetID + "-other"
            var otherRun = session.tags
            otherRun[ConformanceKit.runTag] = "run-none"
            var extraKey = session.tags
            extraKey["cdd-conformance-absent"] = "x"
            for filter in [otherSet, otherRun, extraKey] {
                let found = try await calls.list(tags: filter)
                if let stray = found.first { throw CheckFailure("filter \(filter) matched \(stray.id)") }
            }
            return "another instance set's, another run's, and an extra key's filters match nothing"
        }

        await session.check("set_tags merges") {
            guard let first else { throw Skip("nothing created") }
            try await calls.setTags(ids: [first.id], tags: ["cdd-conformance-state": "tagged"])
            var expected = single.tags
            expected["cdd-conformance-state"] = "tagged"
            _ = try await listUntil(expected, "the new tag") { $0.contains { $0.id == first.id && $0.tags == expected } }
            do {
                try await calls.setTags(ids: ["cdd-conformance-missing-0"], tags: ["x": "y"])
                throw CheckFailure("set_tags on a missing instance succeeded")
            } catch let error as DriverError where error.errorClass == .notFound || error.errorClass == .invalid {
                return "new tag added, old tags kept; missing id gave \(error.errorClass.name)"
            }
        }

        await session.check("8 concurrent clients") {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        if worker % 2 == 0 {
                            let made = try await calls.create(request("concurrent", count: 1))
                            session.remember(made)
                            try await calls.setTags(ids: made.map(\.id), tags: ["cdd-conformance-worker": "\(worker)"])
                            let result = try await calls.destroy(ids: made.map(\.id))
                            session.forget(result.destroyed)
                            guard result.failed.isEmpty else { throw CheckFailure("destroy failed: \(result.failed)") }
                        } else {
                            for _ in 0..<3 { _ = try await calls.list(tags: session.tags) }
                            _ = try await set.instanceTypes()
                        }
                    }
                }
                try await group.waitForAll()
            }
            var filter = session.tags
            filter["cdd-conformance-case"] = "concurrent"
            _ = try await listUntil(filter, "the concurrent instances' removal") { $0.isEmpty }
            return "4 create/tag/destroy and 4 list clients at once"
        }

        var justDestroyed: String?
        await session.check("destroy a just-created instance") {
            // No wait for it to boot: the host destroys instances in any state.
            let made = try await calls.create(request("just-created", count: 1))
            session.remember(made)
            let result = try await calls.destroy(ids: made.map(\.id))
            session.forget(result.destroyed)
            guard result.failed.isEmpty else { throw CheckFailure("failed: \(result.failed)") }
            guard result.destroyed == made.map(\.id) else { throw CheckFailure("destroyed \(result.destroyed) of \(made.map(\.id))") }
            justDestroyed = made[0].id
            return "\(made[0].id) destroyed while \(made[0].state.rawValue)"
        }

        await session.check("list after destroy") {
            guard let id = justDestroyed else { throw Skip("nothing destroyed") }
            var filter = session.tags
            filter["cdd-conformance-case"] = "just-created"
            _ = try await listUntil(filter, "\(id)'s removal") { !$0.contains { $0.id == id } }
            return "\(id) no longer listed"
        }

        await EdgeCaseChecks(creation: self, first: first).run()

        await session.check("destroy") {
            let mine = try await calls.list(tags: session.tags)
            guard !mine.isEmpty else { throw CheckFailure("nothing left to destroy") }
            let result = try await calls.destroy(ids: mine.map(\.id))
            session.forget(result.destroyed)
            guard result.failed.isEmpty else { throw CheckFailure("failed: \(result.failed)") }
            guard Set(result.destroyed) == Set(mine.map(\.id)) else { throw CheckFailure("destroyed \(result.destroyed) of \(mine.map(\.id))") }
            _ = try await listUntil(session.tags, "removal") { $0.isEmpty }
            let again = try await calls.destroy(ids: [mine[0].id])
            guard again.destroyed == [mine[0].id] else { throw CheckFailure("destroying a gone instance gave \(again)") }
            return "\(mine.count) destroyed and gone from list; repeating a destroy is harmless"
        }
    }
}
