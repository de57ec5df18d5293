import Glibc

/// The command line: `[--root DIR] COMMAND [ARGS]`, exactly one command per invocation.
enum CLI {
    static let version = "cloud-dispatch-runner 1.0.0"

    static let usage = """
        usage: cloud-dispatch-runner [--root DIR] COMMAND
          --detach               start the container whose JSON spec is on stdin; prints {"uuid":…,"pid":N}
          --list                 one line per record: UUID (live), UUID done, UUID stale; then broken [REASON]
          --status UUID          one JSON line: state, exit_code, signal, reason, times, log_tail
          --kill SIGNAL UUID     signal a live container (TERM, KILL, INT, HUP, QUIT, USR1, USR2 or a number)
          --forget UUID          remove the record of a done or stale container
          --mark-broken REASON   mark this node unusable (--list then says broken REASON)
          --version, --help
        State: DIR/runner, DIR = --root, else $CDD_INSTANCE_ROOT, else /var/lib/cloud-dispatch.
        Exit codes: 0 ok, 1 failed (--status: unknown UUID, --kill: still running), 2 bad input,
        3 the UUID has a record (--detach) or is still running (--forget).
        """

    /// Runs one invocation; `arguments` excludes the program name.
    static func run(_ arguments: [String]) -> Int32 {
        var args = arguments[...]
        var root: String?
        if args.first == "--root" {
            guard args.count >= 2, !args[args.startIndex + 1].isEmpty else { return refuse("--root needs a folder") }
            root = args[args.startIndex + 1]
            args = args.dropFirst(2)
        }
        let commands = Commands(paths: Paths(root: root))
        let rest = Array(args.dropFirst())
        switch (args.first, rest.count) {
        case ("--detach"?, 0): return commands.detach()
        case ("--list"?, 0): return commands.list()
        case ("--status"?, 1):
            guard Paths.isValidUUID(rest[0]) else { return refuse("invalid container UUID \(JSON.string(rest[0]).text)") }
            return commands.status(rest[0])
        case ("--kill"?, 2):
            guard let signal = Signals.parse(rest[0]) else { return refuse("unknown signal \(JSON.string(rest[0]).text)") }
            guard Paths.isValidUUID(rest[1]) else { return refuse("invalid container UUID \(JSON.string(rest[1]).text)") }
            return commands.kill(signal, rest[1])
        case ("--forget"?, 1):
            guard Paths.isValidUUID(rest[0]) else { return refuse("invalid container UUID \(JSON.string(rest[0]).text)") }
            return commands.forget(rest[0])
        case ("--mark-broken"?, _): return commands.markBroken(rest.joined(separator: " "))
        case ("--version"?, 0): System.say(version); return Exit.ok
        case ("--help"?, 0), ("-h"?, 0): System.say(usage); return Exit.ok
        default: return refuse(args.isEmpty ? "no command" : "invalid arguments: \(args.joined(separator: " "))")
        }
    }

    private static func refuse(_ message: String) -> Int32 {
        System.complain(message)
        _ = System.writeAll(2, Array((usage + "\n").utf8))
        return Exit.usage
    }
}
