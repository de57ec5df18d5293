import Foundation
import JSON

/// The API's OpenAPI 3.1 document (`openapi.json`, compiled in), served at /openapi.json and
/// used to check request bodies: its component schemas are the rules.
public enum OpenAPIDocument {
    public static let data = Data(PackageResources.openapi_json)
    public static let value: JSONValue = {
        do { return try JSONValue(parsing: data) } catch { fatalError("embedded openapi.json is broken: \(error)") }
    }()
    public static let schemas: JSONSchema = {
        do { return try JSONSchema(document: value, definitions: "#/components/schemas") } catch {
            fatalError("embedded openapi.json has an unsupported schema: \(error)")
        }
    }()

    /// Every (METHOD, path) the document describes.
    public static var operations: Set<String> {
        guard case .object(let paths)? = value["paths"] else { return [] }
        var found = Set<String>()
        for (path, item) in paths {
            guard case .object(let methods) = item else { continue }
            for method in methods.keys where ["get", "post", "patch", "put", "delete"].contains(method) {
                found.insert("\(method.uppercased()) \(path)")
            }
        }
        return found
    }
}
