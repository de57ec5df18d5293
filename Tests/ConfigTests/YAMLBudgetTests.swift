import Config
import Foundation
import Testing

/// Documents that would take Yams minutes and gigabytes are refused before it builds values.
@Suite struct YAMLBudgetTests {
    /// "Billion laughs": each level lists the previous one ten times; 9 levels stand for 10⁹ nodes.
    static func aliasBomb(levels: Int) -> String {
        var text = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        let names = "abcdefghijklmnopqrstuvwxyz".map(String.init)
        for level in 1..<levels {
            let previous = "*" + names[level - 1]
            text += "\(names[level]): &\(names[level]) [" + Array(repeating: previous, count: 10).joined(separator: ",") + "]\n"
        }
        return text
    }

    /// Expanded, the document would take Yams minutes; refused by counting, it takes
    /// milliseconds. The bound is far above that so a loaded machine cannot fail it.
    @Test func billionLaughsIsRefusedBeforeItIsExpanded() {
        let started = ContinuousClock.now
        let found = problems(Self.aliasBomb(levels: 9))
        let elapsed = ContinuousClock.now - started
        #expect(found == ["not accepted as YAML: more than 100000 values once aliases (*name) are expanded; "
                          + "aliases may repeat a value, not multiply a document"])
        #expect(elapsed < .seconds(10), "took \(elapsed)")
    }

    @Test func aLongStringRepeatedByAliasesIsRefused() {
        // 600 KB of text, which 20 aliases make 12 MB.
        let yaml = "a: &a \"" + String(repeating: "x", count: 600_000) + "\"\nb: [" + Array(repeating: "*a", count: 20).joined(separator: ",") + "]\n"
        #expect(problems(yaml) == ["not accepted as YAML: more than 8388608 bytes of text once aliases (*name) are expanded; "
                                   + "aliases may repeat a value, not multiply a document"])
    }

    @Test func aliasesThatRepeatAValueStillWork() {
        // An anchor reused a few times is ordinary YAML: only the expanded size is bounded.
        let yaml = """
            scheduling: &s {idle_timeout: 30s}
            instance_types:
              - &small {name: a, vcpus: 1, ram: 1GiB, price: 0.01}
              - {<<: *small, name: b}
            """
        #expect(problems(yaml).isEmpty)
        #expect(config(yaml)?.instanceTypes.map(\.name) == ["a", "b"])
    }

    @Test func deepNestingIsRefused() {
        let yaml = "x: " + String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(problems(yaml) == ["not accepted as YAML: nested more than 64 levels deep"])
    }

    @Test func aFileLargerThanAConfigurationIsNotRead() throws {
        let folder = TempFolder()
        let path = folder.file("huge.yml", "# " + String(repeating: "x", count: 2 << 20) + "\n")
        let result = ConfigLoader.load(path: path)
        guard case .failure(let problems) = result else { Issue.record("loaded"); return }
        #expect(problems.items == ["the file has \(2 << 20 + 3) bytes; a configuration has at most 1048576"])
    }
}
