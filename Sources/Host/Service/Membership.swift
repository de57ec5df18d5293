import Config
import Foundation
import Logging
import Queue
import Synchronization

/// This daemon's place among the dispatchers sharing its store: it keeps its membership row
/// beating, and adopts the instance set (or executor jobs) of a member on the same driver (or
/// backend) whose heartbeat is older than `queue.takeover_after` (see `Takeover`). A member
/// whose row says it was taken over stops, as a lost lease does (serve exits 1 with the reason).
///
///     let membership = Membership(store: store, membership: members, me: me, config: settings, open: open, logger: logger)
///     let task = Task { await membership.run() }
///     ...; task.cancel(); await membership.stop()
final class Membership: Sendable {
    let store: any ContainerStore
    let membership: any DispatcherMembership
    let me: DispatcherMember
    let config: Configuration
    let logger: Logger
    /// Opens a taken-over id in drain mode, through this daemon's own driver or executor
    /// backend and its configuration (nil: this daemon adopts nothing).
    let open: DrainOpener?
    private let takeovers = Mutex<[String: Takeover]>([:])
    /// Members found alive through their lease though silent: logged once each.
    private let aliveButSilent = Mutex<Set<String>>([])
    private let why = Mutex<String?>(nil)

    init(
        store: any ContainerStore, membership: any DispatcherMembership, me: DispatcherMember, config: Configuration,
        open: DrainOpener?, logger: Logger
    ) {
        self.store = store
        self.membership = membership
        self.me = me
        self.config = config
        self.open = open
        self.logger = logger
    }

    /// How often the row beats and the others are looked at: several times per `takeover_after`.
    var interval: Duration { .milliseconds(Int64(1000 * max(0.5, min(5, config.queue.takeoverAfter / 4)))) }

    /// Why this daemon was stopped (its id taken over), if it was.
    var reason: String? { why.withLock { $0 } }

    /// Beats and watches until cancelled.
    func run() async {
        while !Task.isCancelled {
            await pass()
            try? await Task.sleep(for: interval)
        }
    }

    /// One heartbeat, then one look at the others.
    func pass() async {
        do {
            try await membership.heartbeat(me.id)
        } catch {
            if case .fenced(let message) = error {
                why.withLock { $0 = message }
                logger.critical("this dispatcher was taken over: stopping", metadata: ["reason": "\(message)"])
                kill(getpid(), SIGTERM)  // the graceful stop, as when the lease is taken over
                return
            }
            logger.warning("membership heartbeat failed", metadata: ["error": "\(error)"])
            try? await membership.register(me)  // the row may be gone (forgotten by an operator)
            return
        }
        guard let open else { return }
        let members: [DispatcherMember]
        do { members = try await membership.members() } catch {
            logger.warning("cannot read the dispatcher members", metadata: ["error": "\(error)"])
            return
        }
        for member in members {
            guard let adoption = member.adoption(by: me, among: members, takeoverAfter: config.queue.takeoverAfter),
                takeovers.withLock({ $0[member.id] == nil })
            else { continue }
            await adopt(member, claimed: adoption == .resume, open: open)
        }
        takeovers.withLock { running in running = running.filter { !$0.value.finished } }
    }

    /// Takes the member's lease (its daemon, if alive, still holds it: then it is not dead, only
    /// slow), claims the member in the store, and drains its set.
    private func adopt(_ member: DispatcherMember, claimed: Bool, open: DrainOpener) async {
        let lease: any DispatcherLease
        do {
            lease = try await store.acquireLease(for: member.id, holder: .thisProcess)
        } catch {
            if aliveButSilent.withLock({ $0.insert(member.id).inserted }) {
                logger.warning(
                    "a member's heartbeat stopped but its lease is held: not taking it over",
                    metadata: ["member": "\(member.id)", "error": "\(error)"])
            }
            return
        }
        aliveButSilent.withLock { _ = $0.remove(member.id) }
        do {
            if !claimed {
                guard try await membership.claimTakeover(of: member.id, by: me.id, takeoverAfter: config.queue.takeoverAfter) else {
                    await lease.release()  // beat again, or claimed by another survivor
                    return
                }
                logger.notice(
                    "taking over a dispatcher whose heartbeat stopped",
                    metadata: ["member": "\(member.id)", "heartbeat_age": "\(Int(member.heartbeatAge))s", "epoch": "\(member.epoch + 1)"])
            } else {
                logger.notice("resuming the takeover of a dispatcher", metadata: ["member": "\(member.id)"])
            }
            let takeover = Takeover(
                member: member.id, dispatcher: try await open(member.id), lease: lease, membership: membership,
                pollInterval: config.executor?.pollInterval ?? config.workers.pollInterval, logger: logger)
            takeovers.withLock { $0[member.id] = takeover }
            takeover.start()
        } catch {
            logger.error("could not take over a dispatcher; trying again", metadata: ["member": "\(member.id)", "error": "\(error)"])
            await lease.release()
        }
    }

    /// Stops the takeovers in progress (their sets stay claimed: the next start resumes them).
    func stop() async {
        for takeover in takeovers.withLock({ Array($0.values) }) { await takeover.stop() }
    }
}

/// Opens a taken-over dispatcher id in drain mode (see `Membership.open`).
typealias DrainOpener = @Sendable (_ memberID: String) async throws -> any DrainingDispatcher
