/// A JSON-like value with one text form: object keys sorted, numbers in their shortest form, no
/// spaces. It is the canonical form of a spec, whose SHA-256 is the `capstan.spec` task label.
public indirect enum CanonicalValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([CanonicalValue])
    case object([String: CanonicalValue])

    /// Compact JSON with sorted keys.
    public var json: String { String(decoding: utf8, as: UTF8.self) }

    /// ``json`` as UTF-8 bytes, written straight into one buffer (what the spec hashes are taken over).
    public var utf8: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        write(to: &out)
        return out
    }

    private func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: CanonicalValue.formatNumber(n).utf8)
        case .string(let s): CanonicalValue.writeString(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let fields):
            out.append(UInt8(ascii: "{"))
            for (i, key) in fields.keys.sorted().enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                CanonicalValue.writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                fields[key]!.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Whole numbers without a fraction (`3`, not `3.0`); others in Swift's shortest round-trip form.
    public static func formatNumber(_ n: Double) -> String {
        if n == n.rounded(), abs(n) < 1e15 { return String(Int64(n)) }
        return "\(n)"
    }

    /// A JSON string: `"` and `\` escaped, control characters as `\n`, `\r`, `\t` or `\u00XX`, everything else
    /// (multi-byte UTF-8 included) as it is.
    static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
            case UInt8(ascii: "\n"): out.append(contentsOf: "\\n".utf8)
            case UInt8(ascii: "\r"): out.append(contentsOf: "\\r".utf8)
            case UInt8(ascii: "\t"): out.append(contentsOf: "\\t".utf8)
            case 0..<0x20:
                let digits = Array("0123456789abcdef".utf8)
                out.append(contentsOf: "\\u00".utf8)
                out.append(digits[Int(byte >> 4)])
                out.append(digits[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension Workload {
    /// The canonical form: every field present with defaults applied, durations in seconds, sizes in MiB.
    public var canonical: CanonicalValue {
        .object([
            "apiVersion": .string("capstan/v1"),
            "kind": .string(kind.rawValue),
            "metadata": .object(["name": .string(name.value), "labels": .stringMap(labels)]),
            "spec": spec.canonical,
        ])
    }

    /// SHA-256 (hex) of the canonical form: equal for manifests that mean the same thing, whatever
    /// their key order or which defaults they spell out; different when any field changes.
    public var specHash: String { CanonicalSHA256.hex(canonical.utf8) }

    /// The value of the `capstan.spec` task label: the first 16 hex digits of ``specHash``.
    public var specLabel: String { String(specHash.prefix(16)) }
}

extension WorkloadSpec {
    public var canonical: CanonicalValue {
        var fields: [String: CanonicalValue] = [
            "image": image.map(CanonicalValue.string) ?? .null,
            "command": .strings(command),
            "args": .strings(args),
            "env": .stringMap(env),
            "instances": .number(Double(instances)),
            "resources": .object([
                "cpus": .number(resources.cpus), "mem": .number(resources.memMiB),
                "disk": .number(resources.diskMiB), "gpus": .number(Double(resources.gpus)),
            ]),
            "network": network.canonical,
            "volumes": .array(volumes.map(\.canonical)),
            "health": health?.canonical ?? .null,
            "update": .object([
                "minHealthy": .string(update.minHealthy.description), "maxSurge": .string(update.maxSurge.description),
                "progressDeadline": .seconds(update.progressDeadline), "autoRevert": .bool(update.autoRevert),
            ]),
            "backoff": .object([
                "delay": .seconds(backoff.delay), "factor": .number(backoff.factor), "max": .seconds(backoff.max),
            ]),
            "killGracePeriod": .seconds(killGracePeriod),
            "constraints": .array(constraints.map(\.canonical)),
            "dependsOn": .strings(dependsOn.sorted().map(\.value)),
            "user": user.map(CanonicalValue.string) ?? .null,
        ]
        // Only when asked for: an app without devices keeps the template label it had before `devices` existed.
        if !devices.isEmpty { fields["devices"] = .strings(devices.map(\.description).sorted()) }
        return .object(fields)
    }
}

extension VolumeSpec {
    var canonical: CanonicalValue {
        var fields: [String: CanonicalValue] = ["path": .string(path), "readOnly": .bool(readOnly)]
        switch source {
        case .persistent(let size, let destroy):
            var persistent: [String: CanonicalValue] = ["size": .number(size)]
            if destroy { persistent["destroy"] = .string("confirm") }
            fields["persistent"] = .object(persistent)
        case .host(let hostPath): fields["host"] = .string(hostPath)
        case .docker(let driver, let name): fields["docker"] = .object(["driver": .string(driver), "name": .string(name)])
        }
        return .object(fields)
    }
}

extension PortReference {
    var canonical: CanonicalValue {
        switch self {
        case .name(let name): return .string(name)
        case .number(let n): return .number(Double(n))
        }
    }
}

extension HealthCheckSpec {
    var canonical: CanonicalValue {
        var fields: [String: CanonicalValue] = [
            "interval": .seconds(interval), "timeout": .seconds(timeout), "gracePeriod": .seconds(gracePeriod),
            "maxFailures": .number(Double(maxFailures)),
        ]
        switch check {
        case .http(let port, let path): fields["http"] = .object(["port": port.canonical, "path": .string(path)])
        case .tcp(let port): fields["tcp"] = .object(["port": port.canonical])
        case .command(let argv): fields["command"] = .strings(argv)
        }
        return .object(fields)
    }
}

extension Constraint {
    var canonical: CanonicalValue {
        var fields: [String: CanonicalValue] = ["attribute": .string(attribute)]
        switch op {
        case .unique: fields["unique"] = .bool(true)
        case .equals(let value): fields["equals"] = .string(value)
        case .like(let pattern): fields["like"] = .string(pattern)
        case .maxPer(let n): fields["maxPer"] = .number(Double(n))
        }
        return .object(fields)
    }
}

extension CanonicalValue {
    static func strings(_ list: [String]) -> CanonicalValue { .array(list.map(CanonicalValue.string)) }
    static func stringMap(_ map: [String: String]) -> CanonicalValue { .object(map.mapValues(CanonicalValue.string)) }
    static func seconds(_ d: Duration) -> CanonicalValue { .number(d.seconds) }
}

extension NetworkSpec {
    var canonical: CanonicalValue {
        var fields: [String: CanonicalValue] = [
            "name": .string(name),
            "ports": .array(ports.map { port in
                .object([
                    "name": .string(port.name), "container": port.container.map { .number(Double($0)) } ?? .null,
                    "host": .number(Double(port.host)), "protocol": .string(port.protocol.rawValue),
                ])
            }),
        ]
        // Only when there are some, so that the templates of single-network apps keep their hashes.
        if !additional.isEmpty { fields["additional"] = .strings(additional) }
        return .object(fields)
    }
}
