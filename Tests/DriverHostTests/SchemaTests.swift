import DriverHost
import Foundation
import Testing
import JSON

@Suite struct SchemaTests {
    let schema = DriverSchema.shared

    func value(_ json: String) throws -> JSONValue { try JSONValue(parsing: Data(json.utf8)) }

    /// Every kind keeps its kind, nested or not: a string that reads like a boolean or a number
    /// stays a string, whole numbers are integers (2.0 too), others and huge ones are numbers.
    @Test func everyKindParsesAsItself() throws {
        let parsed = try value(#"{"s": "true", "t": "1", "n": 1, "d": 1.5, "w": 2.0, "big": 1e20, "b": true, "z": null,"#
            + #" "a": [1, "x", [], {}, false], "o": {"k": false, "e": {}}}"#)
        #expect(parsed == .object([
            "s": .string("true"), "t": .string("1"), "n": .integer(1), "d": .number(1.5), "w": .integer(2), "big": .number(1e20),
            "b": .bool(true), "z": .null, "a": .array([.integer(1), .string("x"), .array([]), .object([:]), .bool(false)]),
            "o": .object(["k": .bool(false), "e": .object([:])]),
        ]))
        #expect(try value("[]") == .array([]) && value(#""x""#) == .string("x") && value("-7") == .integer(-7))
        #expect(throws: (any Error).self) { try value(#"{"a": [1, }"#) }
    }

    @Test func everyOperationHasARequestAndAReplySchema() {
        let names = Set(schema.definitionNames)
        for op in DriverOperation.allCases where op != .openSet {
            if op != .capabilities { #expect(names.contains(op.rawValue + "_request"), "\(op)") }
            #expect(names.contains(op.rawValue + "_reply"), "\(op)")
        }
    }

    @Test func acceptsAWellFormedInstanceList() throws {
        let reply = try value("""
            {"instances": [{"id": "i-1", "provider_type": "m5.large", "state": "running", "address": "10.0.0.5",
              "ssh_port": 22, "tags": {"a": "b"}, "created_at": "2026-11-29T10:00:00Z", "extra": {"zone": "a"}}]}
            """)
        #expect(schema.validate(reply, against: "list_reply") == [])
    }

    @Test func namesEachProblemWithItsPath() throws {
        let reply = try value("""
            {"instances": [{"id": "", "provider_type": "x", "state": "running", "tags": {"k": 5}, "ssh_port": 70000, "color": "red"}],
             "more": true}
            """)
        #expect(schema.validate(reply, against: "list_reply") == [
            "instances[0].address: required member missing",
            "instances[0].color: unknown member",
            "instances[0].id: shorter than 1 characters",
            "instances[0].ssh_port: 70000 is above the maximum 65535",
            "instances[0].tags.k: expected string, got integer",
            "more: unknown member",
        ])
    }

    @Test func checksPatternsAndTypes() throws {
        let request = try value(#"{"instance_type": {"name": "a", "provider_type": "b", "vcpus": 1.5, "ram": 1, "preemptible": false, "price": 0}, "tags": {}, "count": 1, "idempotency_token": "has space"}"#)
        #expect(schema.validate(request, against: "create_request") == [
            "idempotency_token: \"has space\" does not match ^[A-Za-z0-9._-]+$",
            "instance_type.vcpus: expected integer, got number",
        ])
    }

    /// A schema that refers to itself (compiled once, its `$ref` a node number) checks values
    /// at any depth; every other keyword of the subset reports in its own words.
    @Test func recursiveAndLessUsedKeywords() throws {
        let doc = try value(#"""
            {"$defs": {
               "tree": {"type": "object", "required": ["name"], "maxProperties": 3, "additionalProperties": {"type": "integer"},
                        "propertyNames": {"maxLength": 8},
                        "properties": {"name": {"enum": ["a", "b"]}, "kids": {"type": "array", "maxItems": 2, "items": {"$ref": "#/$defs/tree"}},
                                       "pair": {"prefixItems": [{"const": 1}, {"type": "string"}], "minItems": 2},
                                       "size": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]},
                                       "gone": false}},
               "broken": {"$ref": "#/$defs/nowhere"}}}
            """#)
        let schema = try JSONSchema(document: doc)
        #expect(schema.validate(try value(#"{"name": "a", "kids": [{"name": "b", "kids": [{"name": "a"}]}]}"#), against: "tree") == [])
        let bad = try value(#"""
            {"name": "a", "kids": [{"name": "b", "kids": [{"name": "c", "extra": "x"}, {"kids": [], "pair": [2], "size": -1}, {"name": "a"}]}]}
            """#)
        #expect(schema.validate(bad, against: "tree") == [
            "kids[0].kids: more than 2 items",
            #"kids[0].kids[0].extra: expected integer, got string"#,
            #"kids[0].kids[0].name: "c" is not one of a, b"#,
            "kids[0].kids[1].name: required member missing",
            "kids[0].kids[1].pair: fewer than 2 items",
            "kids[0].kids[1].pair[0]: must be 1",
            "kids[0].kids[1].size: -1 is below the minimum 0",
        ])
        #expect(schema.validate(try value(#"{"name": "a", "gone": 1, "longer-name": 2}"#), against: "tree") == [
            "gone: not allowed", "longer-name (name): longer than 8 characters",
        ])
        #expect(schema.validate(.null, against: "broken") == ["(top level): unresolvable $ref #/$defs/nowhere"])
    }

    @Test func refusesSchemasUsingKeywordsItWouldIgnore() throws {
        let doc = try value(#"{"$defs": {"x": {"type": "object", "oneOf": []}}}"#)
        #expect(throws: JSONSchema.UnsupportedKeyword.self) { try JSONSchema(document: doc) }
    }

    @Test func theShippedFileIsTheEmbeddedOne() throws {
        // docs/ and `make install` ship Sources/DriverHost/Schemas/driver-abi.schema.json; the
        // host embeds the same bytes at build time.
        #expect(DriverSchema.text.contains("\"create_request\""))
        #expect(try value(DriverSchema.text)["$defs"] != nil)
    }
}
