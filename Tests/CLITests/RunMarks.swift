import Foundation
import Queue

/// Containers that append a line to a file of their own on every run, so that a test counts how
/// often each ran (once, whatever was killed or taken over in between).
///
///     _ = try await client.submit(RunMarks.specs(200, in: runs, sleep: 1, RuntimeConstraints(vcpus: 1)))
///     #expect(RunMarks.counts(in: runs).values.allSatisfy { $0 == 1 })
enum RunMarks {
    static func specs(_ count: Int, in folder: String, sleep seconds: Int, _ constraints: RuntimeConstraints) -> [ContainerSpec] {
        (0..<count).map { i in
            ContainerSpec(
                command: ["sh", "-c", "echo ran >> \"$MARK\"; sleep \(seconds)"], environment: ["MARK": folder + "/c\(i)"],
                runtimeConstraints: constraints)
        }
    }

    /// Runs per container, by file name (a container that never ran has no file).
    static func counts(in folder: String) -> [String: Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return Dictionary(uniqueKeysWithValues: names.map { name in
            let text = (try? String(contentsOfFile: folder + "/" + name, encoding: .utf8)) ?? ""
            return (name, text.split(separator: "\n").count)
        })
    }
}
