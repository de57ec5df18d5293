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
    public static let shared: JSONSchema = compile(PackageResources.driver_abi_schema_json, name: "driver")

    static func compile(_ bytes: [UInt8], name: String) -> JSONSchema {
        do {
            return try JSONSchema(document: JSONValue(parsing: Data(bytes)))
        } catch {
            fatalError("embedded \(name) schema is broken: \(error)")
        }
    }
}

/// The JSON Schema of every executor-backend payload (`Schemas/executor-abi.schema.json`),
/// compiled in as the driver schema is.
public enum ExecutorSchema {
    public static let text: String = String(decoding: PackageResources.executor_abi_schema_json, as: UTF8.self)
    public static let shared: JSONSchema = DriverSchema.compile(PackageResources.executor_abi_schema_json, name: "executor")
}
