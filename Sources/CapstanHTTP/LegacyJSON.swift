import CapstanAPI
import CapstanCore

/// A free-form JSON value, for the legacy `/state` document whose shape predates the v1 API.
public enum LegacyJSON: Encodable, Sendable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case array([LegacyJSON])
    case object([String: LegacyJSON])
    case null

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let s): try container.encode(s)
        case .number(let n): try container.encode(n)
        case .bool(let b): try container.encode(b)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        case .null: try container.encodeNil()
        }
    }
}

extension Resources {
    /// The legacy `/state` form: `{"cpus": 2, "mem": 1024, "ports": "[31000-32000]"}`.
    public var legacyJSON: LegacyJSON {
        var object: [String: LegacyJSON] = ["cpus": .number(0), "mem": .number(0), "disk": .number(0), "gpus": .number(0)]
        for entry in entries {
            switch entry.value {
            case .scalar(let value):
                if case .number(let existing) = object[entry.name] ?? .number(0) {
                    object[entry.name] = .number(existing + value)
                }
            case .ranges(let ranges):
                object[entry.name] = .string("[" + ranges.map { "\($0.begin)-\($0.end)" }.joined(separator: ", ") + "]")
            case .set(let items):
                object[entry.name] = .string("{" + items.joined(separator: ",") + "}")
            }
        }
        return .object(object)
    }
}

extension MesosTask {
    /// A task in the legacy JSON form (the master's `/state` and `/tasks`, the agent's `/state`).
    public var legacyJSON: LegacyJSON {
        var object: [String: LegacyJSON] = [
            "id": .string(taskID.value), "name": .string(name),
            "framework_id": .string(frameworkID.value), "slave_id": .string(agentID.value),
            "executor_id": .string(executorID?.value ?? ""),
            "state": .string(state.rawValue),
            "resources": ((try? Resources(mesos: resources)) ?? Resources()).legacyJSON,
            "statuses": .array(statuses.map { .object(["state": .string($0.state.rawValue), "timestamp": .number($0.timestamp ?? 0)]) }),
        ]
        if let labels = labels?.labels {
            object["labels"] = .array(labels.map { .object(["key": .string($0.key), "value": .string($0.value ?? "")]) })
        }
        return .object(object)
    }
}
