import CapstanAPI
import CapstanCore
import Foundation

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
            "statuses": .array(statuses.map { status in
                var object: [String: LegacyJSON] = ["state": .string(status.state.rawValue), "timestamp": .number(status.timestamp ?? 0)]
                // Where tools such as mesos-dns read a task's IP addresses.
                if let containerStatus = status.containerStatus { object["container_status"] = LegacyJSON(mesos: containerStatus) }
                return .object(object)
            }),
        ]
        if let discovery { object["discovery"] = LegacyJSON(mesos: discovery) }
        if let container { object["container"] = LegacyJSON(mesos: container) }
        if let labels = labels?.labels {
            object["labels"] = .array(labels.map { .object(["key": .string($0.key), "value": .string($0.value ?? "")]) })
        }
        return .object(object)
    }
}

extension LegacyJSON {
    /// A v1 message's Mesos JSON as a free-form value (Mesos' legacy endpoints embed messages this way).
    public init(mesos value: some Encodable) {
        guard let data = try? MesosJSON.encode(value),
            let parsed = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        else {
            self = .null
            return
        }
        self.init(parsed: parsed)
    }

    private init(parsed: Any) {
        switch parsed {
        case let text as String: self = .string(text)
        case let number as NSNumber:
            self = String(cString: number.objCType) == "c" ? .bool(number.boolValue) : .number(number.doubleValue)
        case let array as [Any]: self = .array(array.map(LegacyJSON.init(parsed:)))
        case let object as [String: Any]: self = .object(object.mapValues(LegacyJSON.init(parsed:)))
        default: self = .null
        }
    }
}
