import Glibc

/// Short-lived helper processes (`docker kill …`) that must not tie up anything of ours:
/// stdin, stdout and stderr on /dev/null, so an SSH channel never waits for them.
enum Spawn {
    /// Starts `argv` (argv[0] a path) in the background; its pid, or nil when fork failed.
    static func background(_ argv: [String]) -> Int32? {
        let args = argv.map { strdup($0) } + [nil]
        defer { args.forEach { free($0) } }
        let pid = fork()
        if pid == 0 {
            Signals.resetForChild()
            System.closeInheritedFiles(keeping: [])
            let null = open("/dev/null", O_RDWR)
            if null >= 0 { dup2(null, 0); dup2(null, 1); dup2(null, 2) }
            execv(args[0]!, args)
            _exit(127)
        }
        return pid > 0 ? pid : nil
    }

    /// `<runtime> kill --signal N cdd-<uuid>`: a signal to the process group reaches only the
    /// runtime's client; this reaches the container inside the runtime's daemon.
    static func runtimeKill(_ runtimePath: String, container: String, signal: Int32) -> Int32? {
        background([runtimePath, "kill", "--signal", String(signal), container])
    }
}
