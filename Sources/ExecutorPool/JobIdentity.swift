import Queue

/// How a container's job is named in the backend: its tags, and the idempotency token of one run.
/// The token is a function of the queue's record alone, so a submit repeated after a lost answer
/// or a restart names the same run, and the backend returns the job it already made.
enum JobIdentity {
    /// "<uuid>.<lock_count>.<interruptions>": a new token only when the queue counts a new run
    /// (an unlock or requeue raises lock_count, an interruption raises interruptions).
    static func token(of c: Container) -> String {
        "\(c.uuid).\(c.lockCount).\(c.interruptions ?? 0)"
    }

    /// The container uuid a token names.
    static func container(ofToken token: String) -> String? {
        token.split(separator: ".").first.map(String.init)
    }
}

/// The tags the host puts on each job (`prefix` is `workers.tag_prefix`, "cloud-dispatch-").
struct JobTags: Sendable {
    var prefix: String

    var dispatcherKey: String { prefix + "dispatcher" }
    var containerKey: String { prefix + "container" }

    func tags(dispatcher: String, container: String) -> [String: String] {
        [dispatcherKey: dispatcher, containerKey: container]
    }
}
