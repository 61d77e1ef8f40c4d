import CapstanCore

/// The JSON Schema (draft 2020-12) of the `capstan/v1` manifest format, for editors and CI linters.
///
/// It is built from ``ManifestFields`` (the same key tables the decoder accepts; ``object(_:_:required:)``
/// traps if a property list and its table disagree) and committed as
/// `Manifests/schema/capstan-v1.schema.json`; a test keeps the two equal. `capstan validate --print-schema`
/// prints it.
public enum ManifestSchema {
    /// The schema as pretty-printed JSON (two-space indent, properties in format order).
    public static var json: String { document.pretty() }

    /// The path of the committed copy, relative to the repository root.
    public static let committedPath = "Manifests/schema/capstan-v1.schema.json"

    static var document: SchemaNode {
        .object([
            ("$schema", "https://json-schema.org/draft/2020-12/schema"),
            ("$id", "https://github.com/capstan/capstan/Manifests/schema/capstan-v1.schema.json"),
            ("title", "Capstan manifest (capstan/v1)"),
            ("description", "One YAML document: an App (kept at `instances`) or a Job (runs to completion once per spec change)."),
            ("type", "object"),
            ("additionalProperties", .bool(false)),
            ("required", .array(ManifestFields.document.map(SchemaNode.string))),
            ("properties", properties(ManifestFields.document, [
                "apiVersion": .object([("const", .string(ManifestFields.apiVersion))]),
                "kind": .object([("enum", .array(WorkloadKind.allCases.map { .string($0.rawValue) }))]),
                "metadata": ref("metadata"),
                "spec": ref("spec"),
            ])),
            ("allOf", .array([
                .object([
                    ("if", .object([("properties", .object([("kind", .object([("const", "Job")]))]))])),
                    ("then", .object([("properties", .object([("spec", .object([("not", .object([("required", .array(["update"]))]))]))]))])),
                ])
            ])),
            ("$defs", .object(definitions)),
        ])
    }

    static var definitions: [(String, SchemaNode)] {
        [
            ("name", described("A DNS label: 1-63 of a-z, 0-9 and '-', starting and ending with a letter or digit.", [
                ("type", "string"), ("pattern", "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"),
            ])),
            ("size", described("MiB as a number, or a string with a unit: Ki, Mi, Gi, Ti (binary) or k, M, G, T (decimal).", [
                ("oneOf", .array([
                    .object([("type", "number"), ("minimum", .number(0))]),
                    .object([("type", "string"), ("pattern", "^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|k|K|M|G|T)?$")]),
                ])),
            ])),
            ("duration", described("Seconds as a number, or a string with a unit: ns, us, ms, s, m, h, d (e.g. 500ms, 5s, 1m).", [
                ("oneOf", .array([
                    .object([("type", "number"), ("minimum", .number(0))]),
                    .object([("type", "string"), ("pattern", "^[0-9]*\\.?[0-9]+ *(ns|us|ms|msecs|s|sec|secs|seconds|m|min|mins|minutes|h|hr|hrs|hours|d|day|days)?$")]),
                ])),
            ])),
            ("amount", described("A count of instances, or a percentage of `instances` such as 50%.", [
                ("oneOf", .array([
                    .object([("type", "integer"), ("minimum", .number(0))]),
                    .object([("type", "string"), ("pattern", "^([0-9]+|[0-9]+(\\.[0-9]+)?%)$")]),
                ])),
            ])),
            ("stringList", .object([("type", "array"), ("items", .object([("type", "string")]))])),
            ("command", described("An argv list, or a string run by /bin/sh -c.", [
                ("oneOf", .array([
                    .object([("type", "string"), ("minLength", .number(1))]),
                    .object([("type", "array"), ("items", .object([("type", "string")])), ("minItems", .number(1))]),
                ])),
            ])),
            ("stringMap", described("Keys to strings (numbers and booleans are taken as their text).", [
                ("type", "object"), ("additionalProperties", .object([("type", .array(["string", "number", "boolean"]))])),
            ])),
            ("port", described("A port by name (one of spec.network.ports) or number.", [
                ("oneOf", .array([ref("name"), .object([("type", "integer"), ("minimum", .number(1)), ("maximum", .number(65535))])])),
            ])),
            ("metadata", object(ManifestFields.metadata, ["name": ref("name"), "labels": ref("stringMap")], required: ["name"])),
            ("spec", object(ManifestFields.spec, [
                "image": described("docker://…, oci:PATH[:tag], oci-archive:PATH or docker-archive:PATH; omit for a host command.", [("type", "string")]),
                "command": ref("command"),
                "args": ref("stringList"),
                "env": ref("stringMap"),
                "instances": .object([("type", "integer"), ("minimum", .number(0)), ("default", .number(1))]),
                "resources": object(ManifestFields.resources, [
                    "cpus": .object([("type", "number"), ("exclusiveMinimum", .number(0)), ("default", .number(ResourceRequest.defaultCPUs))]),
                    "mem": ref("size"), "disk": ref("size"),
                    "gpus": .object([("type", "integer"), ("minimum", .number(0)), ("default", .number(0))]),
                ]),
                "network": object(ManifestFields.network, [
                    "name": described("host (default), bridge, or a CNI network's name; or a list of CNI networks, the first carrying the port mappings.", [
                        ("oneOf", .array([.object([("type", "string")]), .object([("type", "array"), ("items", .object([("type", "string")])), ("minItems", .number(1))])])),
                        ("default", "host"),
                    ]),
                    "ports": .object([("type", "array"), ("items", object(ManifestFields.port, [
                        "name": ref("name"),
                        "container": .object([("type", "integer"), ("minimum", .number(1)), ("maximum", .number(65535))]),
                        "host": .object([("type", "integer"), ("minimum", .number(0)), ("maximum", .number(65535)), ("default", .number(0))]),
                        "protocol": .object([("enum", .array(PortSpec.TransportProtocol.allCases.map { .string($0.rawValue) })), ("default", "tcp")]),
                    ], required: ["name"]))]),
                ]),
                "volumes": .object([("type", "array"), ("items", object(ManifestFields.volume, [
                    "path": .object([("type", "string"), ("minLength", .number(1))]),
                    "persistent": object(ManifestFields.persistentVolume, [
                        "size": ref("size"), "destroy": .object([("enum", .array([.string("confirm")]))]),
                    ], required: ["size"]),
                    "host": .object([("type", "string"), ("pattern", "^/")]),
                    "docker": object(ManifestFields.dockerVolume, [
                        "driver": .object([("type", "string"), ("default", "local")]), "name": .object([("type", "string")]),
                    ], required: ["name"]),
                    "readOnly": .object([("type", "boolean"), ("default", .bool(false))]),
                ], required: ["path"], oneOfRequired: ["persistent", "host", "docker"]))]),
                "health": object(ManifestFields.health, [
                    "http": object(ManifestFields.httpCheck, ["port": ref("port"), "path": .object([("type", "string"), ("pattern", "^/"), ("default", "/")])], required: ["port"]),
                    "tcp": object(ManifestFields.tcpCheck, ["port": ref("port")], required: ["port"]),
                    "command": ref("command"),
                    "interval": ref("duration"), "timeout": ref("duration"), "gracePeriod": ref("duration"),
                    "maxFailures": .object([("type", "integer"), ("minimum", .number(1)), ("default", .number(3))]),
                ], oneOfRequired: ["http", "tcp", "command"]),
                "update": object(ManifestFields.update, ["minHealthy": ref("amount"), "maxSurge": ref("amount"), "progressDeadline": ref("duration"),
                    "autoRevert": .object([("type", "boolean"), ("default", .bool(false))]),
                ]),
                "backoff": object(ManifestFields.backoff, [
                    "delay": ref("duration"), "factor": .object([("type", "number"), ("minimum", .number(1)), ("default", .number(1.15))]),
                    "max": ref("duration"),
                ]),
                "killGracePeriod": ref("duration"),
                "constraints": .object([("type", "array"), ("items", ref("constraint"))]),
                "dependsOn": .object([("type", "array"), ("items", ref("name")), ("uniqueItems", .bool(true))]),
                "user": .object([("type", "string"), ("minLength", .number(1))]),
                "devices": .object([
                    ("type", "array"), ("uniqueItems", .bool(true)),
                    ("items", .object([("type", "string"), ("pattern", .string("^[A-Za-z][A-Za-z0-9._-]*/[A-Za-z][A-Za-z0-9._-]*=[A-Za-z0-9][A-Za-z0-9._:-]*$"))])),
                ]),
            ])),
            ("constraint", described("{hostname: unique}, or an attribute with one of unique, equals, like (a regular expression) or maxPer.", [
                ("oneOf", .array([
                    .object([
                        ("type", "object"), ("additionalProperties", .bool(false)), ("required", .array(["hostname"])),
                        ("properties", .object([("hostname", .object([("const", "unique")]))])),
                    ]),
                    object(ManifestFields.constraint.filter { $0 != "hostname" }, [
                        "attribute": .object([("type", "string"), ("minLength", .number(1))]),
                        "unique": .object([("const", .bool(true))]),
                        "equals": .object([("type", .array(["string", "number", "boolean"]))]),
                        "like": .object([("type", "string"), ("minLength", .number(1))]),
                        "maxPer": .object([("type", "integer"), ("minimum", .number(1))]),
                    ], required: ["attribute"], oneOfRequired: ["unique", "equals", "like", "maxPer"]),
                ])),
            ])),
        ]
    }

    static func ref(_ name: String) -> SchemaNode { .object([("$ref", .string("#/$defs/\(name)"))]) }

    static func described(_ text: String, _ fields: [(String, SchemaNode)]) -> SchemaNode {
        .object([("description", .string(text))] + fields)
    }

    /// A closed object whose properties are exactly `fields` (in that order); traps on any mismatch.
    static func object(
        _ fields: [String], _ schemas: [String: SchemaNode], required: [String] = [], oneOfRequired: [String] = []
    ) -> SchemaNode {
        var node: [(String, SchemaNode)] = [
            ("type", "object"), ("additionalProperties", .bool(false)), ("properties", properties(fields, schemas)),
        ]
        if !required.isEmpty { node.append(("required", .array(required.map(SchemaNode.string)))) }
        if !oneOfRequired.isEmpty {
            node.append(("oneOf", .array(oneOfRequired.map { .object([("required", .array([.string($0)]))]) })))
        }
        return .object(node)
    }

    static func properties(_ fields: [String], _ schemas: [String: SchemaNode]) -> SchemaNode {
        precondition(Set(fields) == Set(schemas.keys), "schema properties \(schemas.keys.sorted()) differ from the decoder's \(fields)")
        return .object(fields.map { ($0, schemas[$0]!) })
    }
}

/// A JSON value whose objects keep their key order, so the generated schema reads in format order.
indirect enum SchemaNode: ExpressibleByStringLiteral, ExpressibleByArrayLiteral {
    case string(String)
    case number(Double)
    case bool(Bool)
    case array([SchemaNode])
    case object([(String, SchemaNode)])

    init(stringLiteral value: String) { self = .string(value) }
    init(arrayLiteral elements: SchemaNode...) { self = .array(elements) }

    func pretty() -> String {
        var out = ""
        write(to: &out, indent: "")
        return out + "\n"
    }

    private func write(to out: inout String, indent: String) {
        let inner = indent + "  "
        switch self {
        case .string(let s): out += CanonicalValue.string(s).json
        case .number(let n): out += CanonicalValue.formatNumber(n)
        case .bool(let b): out += b ? "true" : "false"
        case .array(let items):
            // Short arrays of scalars stay on one line.
            if items.allSatisfy({ if case .string = $0 { true } else if case .number = $0 { true } else { false } }) {
                out += "[" + items.map { item -> String in var s = ""; item.write(to: &s, indent: ""); return s }.joined(separator: ", ") + "]"
                return
            }
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += inner
                item.write(to: &out, indent: inner)
                out += i == items.count - 1 ? "\n" : ",\n"
            }
            out += indent + "]"
        case .object(let fields):
            if fields.isEmpty {
                out += "{}"
                return
            }
            out += "{\n"
            for (i, (key, value)) in fields.enumerated() {
                out += inner + CanonicalValue.string(key).json + ": "
                value.write(to: &out, indent: inner)
                out += i == fields.count - 1 ? "\n" : ",\n"
            }
            out += indent + "}"
        }
    }
}
