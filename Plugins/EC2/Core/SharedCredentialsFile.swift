import DriverSupport
import Foundation

/// Reads one profile from an AWS shared credentials file (`~/.aws/credentials`, INI):
///
///     [default]
///     aws_access_key_id = AKIA…
///     aws_secret_access_key = …
///     aws_session_token = …        # optional
public enum SharedCredentialsFile {
    public static func credentials(in text: String, profile: String, path: String) -> Credentials? {
        var section: String?
        var values: [String: String] = [:]
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                continue
            }
            guard section == profile, let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            values[key] = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        }
        guard let id = values["aws_access_key_id"], let secret = values["aws_secret_access_key"], !id.isEmpty, !secret.isEmpty else {
            return nil
        }
        let token = values["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 }
        return Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token, source: "\(path) [\(profile)]")
    }
}

