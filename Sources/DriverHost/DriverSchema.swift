import Foundation
import JSON

/// The JSON Schema of every driver payload (`Schemas/driver-abi.schema.json`), compiled into
/// the host so that it needs no files at run time. `make install` also installs the file for
/// driver authors.
public enum DriverSchema {
    /// The schema text as shipped.
    public static let text: String = String(decoding: PackageResources.driver_abi_schema_json, as: UTF8.self)

    /// The compiled schema. The file is part of the build, so failing to parse it is a build
    /// defect, caught by the test suite on every run.
    public static let shared: JSONSchema = {
        do {
            return try JSONSchema(document: JSONValue(parsing: Data(PackageResources.driver_abi_schema_json)))
        } catch {
            fatalError("embedded driver schema is broken: \(error)")
        }
    }()
}
