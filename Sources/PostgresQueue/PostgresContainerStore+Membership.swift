import Foundation
import PostgresNIO
import Queue

/// Membership on PostgreSQL: one `dispatcher_members` row per dispatcher id; heartbeats and
/// takeovers are judged by the server's clock, so hosts whose clocks differ agree on who is dead.
extension PostgresContainerStore: DispatcherMembership {
    public func register(_ member: DispatcherMember) async throws(QueueError) {
        let logger = logger
        let registered = try await withClient { client in
            let rows = try await client.query(
                """
                INSERT INTO dispatcher_members (dispatcher_id, driver, version, host, pid, heartbeat_at)
                VALUES (\(member.id), \(member.driver), \(member.version), \(member.host), \(member.pid), now())
                ON CONFLICT (dispatcher_id) DO UPDATE
                SET driver = EXCLUDED.driver, version = EXCLUDED.version, host = EXCLUDED.host, pid = EXCLUDED.pid, heartbeat_at = now()
                WHERE dispatcher_members.taken_over_by IS NULL
                RETURNING dispatcher_id
                """, logger: logger)
            var found = false
            for try await _ in rows.decode(String.self) { found = true }
            return found
        }
        if !registered { throw try await fenced(member.id) }
    }

    public func heartbeat(_ id: String) async throws(QueueError) {
        let logger = logger
        let beat = try await withClient { client in
            let rows = try await client.query(
                """
                UPDATE dispatcher_members SET heartbeat_at = now() WHERE dispatcher_id = \(id) AND taken_over_by IS NULL
                RETURNING dispatcher_id
                """, logger: logger)
            var found = false
            for try await _ in rows.decode(String.self) { found = true }
            return found
        }
        if !beat { throw try await fenced(id) }
    }

    public func members() async throws(QueueError) -> [DispatcherMember] {
        let logger = logger
        return try await withClient { client in
            let rows = try await client.query(
                """
                SELECT m.dispatcher_id, m.driver, m.version, m.host, m.pid, m.heartbeat_at,
                       extract(epoch FROM now() - m.heartbeat_at)::float8, coalesce(l.epoch, 0),
                       m.taken_over_by, m.taken_over_at, m.drained_at
                FROM dispatcher_members m LEFT JOIN dispatcher_leases l USING (dispatcher_id)
                ORDER BY m.dispatcher_id
                """, logger: logger)
            var found: [DispatcherMember] = []
            for try await (id, driver, version, host, pid, beat, age, epoch, by, at, drained) in rows.decode(
                (String, String, String, String, Int, Date, Double, Int64, String?, Date?, Date?).self)
            {
                found.append(
                    DispatcherMember(
                        id: id, driver: driver, version: version, host: host, pid: pid, heartbeatAt: beat, heartbeatAge: age,
                        epoch: epoch, takenOverBy: by, takenOverAt: at, drainedAt: drained))
            }
            return found
        }
    }

    /// One UPDATE decides: PostgreSQL row-locks the member, and a second survivor's UPDATE waits
    /// for the first to commit, then re-checks its conditions and finds it claimed. A set whose
    /// survivor itself died (or was taken over) before draining it is claimable again.
    public func claimTakeover(of id: String, by survivor: String, takeoverAfter: Double) async throws(QueueError) -> Bool {
        let logger = logger
        return try await transaction { db in
            let rows = try await db.query(
                """
                UPDATE dispatcher_members m SET taken_over_by = \(survivor), taken_over_at = now()
                WHERE m.dispatcher_id = \(id) AND m.dispatcher_id <> \(survivor) AND m.drained_at IS NULL
                  AND ((m.taken_over_by IS NULL AND m.heartbeat_at < now() - make_interval(secs => \(takeoverAfter)))
                       OR (m.taken_over_by <> \(survivor) AND EXISTS (
                           SELECT 1 FROM dispatcher_members s WHERE s.dispatcher_id = m.taken_over_by
                             AND (s.taken_over_by IS NOT NULL OR s.heartbeat_at < now() - make_interval(secs => \(takeoverAfter))))))
                RETURNING m.dispatcher_id
                """, logger: logger)
            var claimed = false
            for try await _ in rows.decode(String.self) { claimed = true }
            if claimed { try await db.query("SELECT pg_notify(\(Self.channel), 'takeover')", logger: logger) }
            return claimed
        }
    }

    public func finishTakeover(of id: String) async throws(QueueError) {
        let logger = logger
        try await transaction { db in
            _ = try await db.query(
                "UPDATE dispatcher_members SET drained_at = now() WHERE dispatcher_id = \(id) AND taken_over_by IS NOT NULL",
                logger: logger)
        }
    }

    public func forget(_ id: String, takeoverAfter: Double) async throws(QueueError) {
        let logger = logger
        let gone = try await withClient { client in
            let rows = try await client.query(
                """
                DELETE FROM dispatcher_members WHERE dispatcher_id = \(id)
                  AND (drained_at IS NOT NULL OR (taken_over_by IS NULL AND heartbeat_at < now() - make_interval(secs => \(takeoverAfter))))
                RETURNING dispatcher_id
                """, logger: logger)
            var found = false
            for try await _ in rows.decode(String.self) { found = true }
            return found
        }
        if !gone {
            throw .conflict("dispatcher \(id) is active or its instance set is still being drained (or it is not a member): not forgotten")
        }
    }

    /// Why `id` may not register or beat: the row says who took it over and when.
    private func fenced(_ id: String) async throws(QueueError) -> QueueError {
        guard let member = try await members().first(where: { $0.id == id }), let message = member.fencedMessage else {
            return .unavailable("dispatcher \(id) has no membership row (forgotten meanwhile?): register again")
        }
        return .fenced(message)
    }
}
