import Glibc

/// The account a plain-process container runs as when its spec has `run_as` (a user name, or
/// `uid[:gid]`): the runner stays root and keeps the state folder to itself, the container
/// gets that uid and gid with no supplementary groups, so it cannot read the specs (and
/// environments) of other containers on the node.
///
/// Names are looked up in /etc/passwd directly: the runner is linked static, and glibc's NSS
/// cannot load its modules there.
///
///     RunAs.resolve("nobody")   // .success(Account(uid: 65534, gid: 65534, name: "nobody", home: "/nonexistent"))
struct RunAs: Sendable {
    struct Account: Equatable, Sendable {
        var uid: uid_t
        var gid: gid_t
        var name: String?
        var home: String?

        /// HOME, USER and LOGNAME of the account (the spec's environment comes after them).
        var environment: [String] {
            var out: [String] = []
            if let home { out.append("HOME=\(home)") }
            if let name { out += ["USER=\(name)", "LOGNAME=\(name)"] }
            return out
        }
    }

    /// A user name (`[a-z_][a-z0-9_.-]*`, at most 32) or `uid[:gid]`.
    static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...32).contains(bytes.count) else { return false }
        let digit: (UInt8) -> Bool = { (0x30...0x39).contains($0) }
        let lower: (UInt8) -> Bool = { (0x61...0x7A).contains($0) || $0 == 0x5F }
        if digit(bytes[0]) {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            return parts.count <= 2 && parts.allSatisfy { !$0.isEmpty && $0.utf8.allSatisfy(digit) && UInt32($0) != nil }
        }
        return lower(bytes[0]) && bytes.allSatisfy { lower($0) || digit($0) || $0 == 0x2E || $0 == 0x2D }
    }

    /// The account for `text`, or why there is none on this node.
    static func resolve(_ text: String, passwd: String = "/etc/passwd") -> Result<Account, Problem> {
        let entries = System.readFile(passwd).map { parse(String(decoding: $0, as: UTF8.self)) } ?? []
        if let first = text.utf8.first, (0x30...0x39).contains(first) {
            let parts = text.split(separator: ":").compactMap { UInt32($0) }
            let known = entries.first { $0.uid == parts[0] }
            guard let gid = parts.count > 1 ? parts[1] : known?.gid else {
                return .failure(
                    Problem(description: "cannot run as \(text): no user with uid \(parts[0]) on this node to take a group from; give uid:gid"))
            }
            return .success(Account(uid: parts[0], gid: gid, name: known?.name, home: known?.home))
        }
        guard let entry = entries.first(where: { $0.name == text }) else {
            return .failure(Problem(description: "cannot run as \(text): no such user on this node"))
        }
        return .success(entry)
    }

    struct Problem: Error, Equatable, CustomStringConvertible { let description: String }

    /// `name:password:uid:gid:gecos:home:shell` lines; others are skipped.
    static func parse(_ text: String) -> [Account] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            guard f.count >= 7, let uid = UInt32(f[2]), let gid = UInt32(f[3]) else { return nil }
            return Account(uid: uid, gid: gid, name: String(f[0]), home: f[5].isEmpty ? nil : String(f[5]))
        }
    }

    /// In the forked child, before exec: no supplementary groups, then the group, then the
    /// user (in that order: after setuid the rest is no longer allowed). 0, or the errno.
    static func become(_ account: Account) -> Int32 {
        guard setgroups(0, nil) == 0, setgid(account.gid) == 0, setuid(account.uid) == 0 else { return errno }
        // Regaining root must be impossible (setuid from root drops all three ids).
        guard getuid() == account.uid, geteuid() == account.uid, getgid() == account.gid, getegid() == account.gid else { return EPERM }
        return 0
    }
}
