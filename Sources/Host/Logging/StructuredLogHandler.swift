import ArgumentParser
import Foundation
import Logging
import Synchronization

/// One line per event on standard error, as logfmt (`ts=… level=info msg="…" key=value`) or
/// JSON (one object per line). Metadata (container, instance, driver, …) becomes fields.
struct StructuredLogHandler: LogHandler {
    enum Format: String, CaseIterable, Sendable {
        case logfmt, json
    }

    let label: String
    let format: Format
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    /// Lines from several threads must not interleave.
    static let output = Mutex(FileHandle.standardError)

    init(label: String, format: Format, level: Logger.Level, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { _, new in new } }
        if let own = event.metadata { fields.merge(own) { _, new in new } }
        let line = LogLine(time: Date(), level: event.level, label: label, message: "\(event.message)", fields: fields)
        let text = format == .json ? line.json() : line.logfmt()
        Self.output.withLock { $0.write(Data((text + "\n").utf8)) }
    }
}

/// One log event's text, in either format.
struct LogLine {
    var time: Date
    var level: Logger.Level
    var label: String
    var message: String
    var fields: Logger.Metadata

    static let timeFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    var timestamp: String { time.formatted(Self.timeFormat) }

    /// Fields in key order after the fixed ones, so lines are easy to compare and grep.
    var sortedFields: [(String, String)] { fields.sorted { $0.key < $1.key }.map { ($0.key, "\($0.value)") } }

    func logfmt() -> String {
        var parts = ["ts=\(timestamp)", "level=\(level.rawValue)", "msg=\(Self.logfmtValue(message))"]
        for (key, value) in sortedFields { parts.append("\(Self.logfmtKey(key))=\(Self.logfmtValue(value))") }
        parts.append("logger=\(Self.logfmtValue(label))")
        return parts.joined(separator: " ")
    }

    func json() -> String {
        var parts = [
            "\"ts\":\(Self.jsonString(timestamp))", "\"level\":\(Self.jsonString(level.rawValue))",
            "\"msg\":\(Self.jsonString(message))",
        ]
        for (key, value) in sortedFields where !["ts", "level", "msg", "logger"].contains(key) {
            parts.append("\(Self.jsonString(key)):\(Self.jsonString(value))")
        }
        parts.append("\"logger\":\(Self.jsonString(label))")
        return "{" + parts.joined(separator: ",") + "}"
    }

    /// Bare when it is one plain word, else quoted with JSON's escapes (which logfmt readers take).
    static func logfmtValue(_ s: String) -> String {
        let plain = !s.isEmpty && s.unicodeScalars.allSatisfy { $0.value > 0x20 && $0 != "=" && $0 != "\"" && $0 != "\\" && $0.value != 0x7f }
        return plain ? s : jsonString(s)
    }

    static func logfmtKey(_ s: String) -> String {
        String(s.unicodeScalars.map { $0.value > 0x20 && $0 != "=" && $0 != "\"" ? Character($0) : "_" })
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where c.value < 0x20: out += String(format: "\\u%04x", c.value)
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
}

extension StructuredLogHandler.Format: ExpressibleByArgument {}
