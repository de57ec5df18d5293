import Glibc

/// Where the runner keeps its state, and the name of every file of a container's record.
///
/// Loopback workers share one machine, so the root is per instance: `--root DIR`, else
/// `$CDD_INSTANCE_ROOT`, else `/var/lib/cloud-dispatch`; the state lives in `<root>/runner/`.
/// A record is a set of files named `<uuid><suffix>`. No suffix is a suffix of another, so two
/// uuids can never share a file, and the lock file alone says a record exists.
struct Paths: Sendable {
    static let defaultRoot = "/var/lib/cloud-dispatch"

    /// The state folder, `<root>/runner`.
    let folder: String

    init(root: String?) {
        var base = root ?? ""
        if base.isEmpty, let env = getenv("CDD_INSTANCE_ROOT") { base = String(cString: env) }
        if base.isEmpty { base = Paths.defaultRoot }
        while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
        folder = base == "/" ? "/runner" : base + "/runner"
    }

    /// Creates the state folder (0700) when it is missing, and tightens it to 0700 when it is
    /// wider (it holds every container's spec, environment included); false when either is
    /// impossible.
    func ensureFolder() -> Bool {
        guard System.makeFolders(folder, mode: 0o700) else { return false }
        var st = stat()
        guard stat(folder, &st) == 0 else { return false }
        return st.st_mode & 0o077 == 0 || chmod(folder, 0o700) == 0
    }

    /// The node-is-broken marker; its content is the reason.
    var brokenMarker: String { folder + "/broken" }

    static let lockSuffix = ".lock"

    /// Flock'ed by the live supervisor for its whole life; holds its pid and process group.
    func lock(_ uuid: String) -> String { "\(folder)/\(uuid)\(Paths.lockSuffix)" }
    /// The spec as received, for operators.
    func spec(_ uuid: String) -> String { "\(folder)/\(uuid).spec.json" }
    /// The container's bounded stdout+stderr.
    func log(_ uuid: String) -> String { "\(folder)/\(uuid).log" }
    /// Written once, atomically, when the container has ended.
    func result(_ uuid: String) -> String { "\(folder)/\(uuid).result.json" }
    func resultTemporary(_ uuid: String) -> String { "\(folder)/\(uuid).result.tmp" }
    /// The lock file before it is linked into place (so nobody sees an unlocked new record).
    func lockTemporary(_ uuid: String) -> String { "\(folder)/\(uuid).lock.\(getpid()).tmp" }

    /// Every file a record may have; the lock last, so a half-done forget leaves a record.
    func recordFiles(_ uuid: String) -> [String] {
        [spec(uuid), spec(uuid) + ".tmp", log(uuid), result(uuid), resultTemporary(uuid), lock(uuid)]
    }

    /// The uuids with a record, sorted.
    func uuids() -> [String]? {
        guard let dir = opendir(folder) else { return nil }
        defer { closedir(dir) }
        var found: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            guard name.hasSuffix(Paths.lockSuffix) else { continue }
            let uuid = String(name.dropLast(Paths.lockSuffix.count))
            if Paths.isValidUUID(uuid) { found.append(uuid) }
        }
        return found.sorted()
    }

    /// `[A-Za-z0-9._-]{1,64}`: safe as part of a file name and of a docker container name.
    /// "broken" is reserved: `--list` prints that word for a broken node.
    static func isValidUUID(_ uuid: String) -> Bool {
        let bytes = Array(uuid.utf8)
        guard uuid != "broken" else { return false }
        guard (1...64).contains(bytes.count) else { return false }
        return bytes.allSatisfy { b in
            (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b)
                || b == 0x2E || b == 0x5F || b == 0x2D
        }
    }

    /// The folder part of a path ("/a/b" → "/a", "b" → ".").
    static func folderOf(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
