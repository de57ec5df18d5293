import Foundation

/// Puts a driver file into a plugins folder, or takes one out (`cloud-dispatch drivers
/// install|remove`). A file is copied under a temporary name, vetted there exactly as loading
/// vets it, and only then renamed over `libcdd_<id>.so`: a reader never sees half a file, and a
/// bad driver never takes the place of a good one. An executor backend (a source file named
/// `libcdx_*.so`) is vetted as one and installed as `libcdx_<id>.so`.
///
///     let installer = DriverInstaller(loader: loader)   // a loader with a vetter
///     let done = try installer.install("./libcdd_gce.so", into: folder)
///     print(done)   // "installed gce 1.2.0 (ABI 1.0) as /…/libcdd_gce.so, replacing gce 1.1.0"
public struct DriverInstaller: Sendable {
    public var loader: DriverLoader

    public init(loader: DriverLoader) {
        self.loader = loader
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    public func install(_ source: String, into folder: String) throws(Failure) -> String {
        if let reason = PluginsFolder.unsafeReason(path: folder, expectDirectory: true) {
            throw Failure("plugins folder \(folder) refused: \(reason)")
        }
        guard let data = FileManager.default.contents(atPath: source) else { throw Failure("cannot read \(source)") }
        let kind = PluginKind(fileName: (source as NSString).lastPathComponent) ?? .driver
        let temporary = folder + "/.install-\(getpid())-" + (source as NSString).lastPathComponent
        try write(data, to: temporary)
        var keep = false
        defer { if !keep { unlink(temporary) } }
        let vetted: DriverInfo
        switch loader.check(temporary, folder: folder, kind: kind) {
        case .failure(let refusal): throw Failure("refused: \((source as NSString).lastPathComponent): \(refusal.reason)")
        case .success(let checked):
            guard let info = checked.vetted else { throw Failure("no vetting process configured") }
            vetted = info
        }
        let target = folder + "/\(kind.filePrefix)\(vetted.id).so"
        let replaced = previous(target, folder: folder, kind: kind)
        guard rename(temporary, target) == 0 else { throw Failure("cannot rename into \(target): \(String(cString: strerror(errno)))") }
        keep = true
        fsyncFolder(folder)
        return "installed \(vetted.id) \(vetted.version) (ABI \(vetted.abi)) as \(target)" + (replaced.map { ", replacing \($0)" } ?? "")
    }

    /// Deletes `libcdd_<name>.so`, else `libcdx_<name>.so` (or the file `name` when it is a
    /// driver or executor file name).
    public func remove(_ name: String, from folder: String) throws(Failure) -> String {
        let executorFile = "libcdx_\(name).so"
        let useExecutor = !FileManager.default.fileExists(atPath: folder + "/libcdd_\(name).so")
            && FileManager.default.fileExists(atPath: folder + "/" + executorFile)
        let file = PluginKind(fileName: name) != nil ? name : useExecutor ? executorFile : "libcdd_\(name).so"
        guard !file.contains("/") else { throw Failure("\(name): a driver id or file name, not a path") }
        let path = folder + "/" + file
        guard unlink(path) == 0 else { throw Failure("cannot remove \(path): \(String(cString: strerror(errno)))") }
        fsyncFolder(folder)
        return "removed \(path)"
    }

    /// What a file at `target` was, when there is one.
    private func previous(_ target: String, folder: String, kind: PluginKind) -> String? {
        guard FileManager.default.fileExists(atPath: target) else { return nil }
        switch loader.check(target, folder: folder, kind: kind) {
        case .success(let checked): return checked.vetted.map { "\($0.id) \($0.version)" } ?? target
        case .failure(let refusal): return "\((target as NSString).lastPathComponent) (which was refused: \(refusal.reason))"
        }
    }

    private func write(_ data: Data, to path: String) throws(Failure) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o755)
        guard fd >= 0 else { throw Failure("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let ok = data.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
        // The umask may have taken bits away; the rule wants exactly no write for group and others.
        guard ok, fchmod(fd, 0o755) == 0, fsync(fd) == 0 else {
            unlink(path)
            throw Failure("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    private func fsyncFolder(_ folder: String) {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
