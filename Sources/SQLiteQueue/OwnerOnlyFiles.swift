import Foundation

/// The queue's files are readable by their owner only: specs carry environment values. SQLite
/// makes its `-wal` and `-shm` files with the database file's mode, so it is enough to create
/// that file 0600 before SQLite does, and to tighten files an older version left 0644.
enum OwnerOnlyFiles {
    static let suffixes = ["", "-wal", "-shm"]

    static func prepare(_ path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw OwnerOnlyFilesError(path: path, errno: errno) }
        close(fd)
        for file in suffixes.map({ path + $0 }) where FileManager.default.fileExists(atPath: file) {
            guard chmod(file, 0o600) == 0 else { throw OwnerOnlyFilesError(path: file, errno: errno) }
        }
    }
}

struct OwnerOnlyFilesError: Error, CustomStringConvertible {
    let path: String
    let errno: Int32
    var description: String { "cannot make \(path) readable by its owner only: \(String(cString: strerror(errno)))" }
}
