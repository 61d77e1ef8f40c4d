import Logging
import CapstanAPI
import CapstanCore
import Foundation

/// A free-form JSON value, for the legacy `/state` document whose shape predates the v1 API.
enum LegacyJSON: Encodable, Sendable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case array([LegacyJSON])
    case object([String: LegacyJSON])
    case null

    func encode(to encoder: any Encoder) throws {
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
    var legacyJSON: LegacyJSON {
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

extension Master {
    /// The legacy `/state` JSON that dashboards and scripts still read.
    func legacyState() -> LegacyJSON {
        let pid = "master@\(address)"
        func task(_ task: MesosTask) -> LegacyJSON {
            var object: [String: LegacyJSON] = [
                "id": .string(task.taskID.value), "name": .string(task.name),
                "framework_id": .string(task.frameworkID.value), "slave_id": .string(task.agentID.value),
                "executor_id": .string(task.executorID?.value ?? ""),
                "state": .string(task.state.rawValue),
                "resources": ((try? Resources(mesos: task.resources)) ?? Resources()).legacyJSON,
                "statuses": .array(task.statuses.map { .object(["state": .string($0.state.rawValue), "timestamp": .number($0.timestamp ?? 0)]) }),
            ]
            if let labels = task.labels?.labels {
                object["labels"] = .array(labels.map { .object(["key": .string($0.key), "value": .string($0.value ?? "")]) })
            }
            return .object(object)
        }
        func framework(_ record: FrameworkRecord) -> LegacyJSON {
            let used = allocator.allocated(to: record.id)
            return .object([
                "id": .string(record.id.value), "name": .string(record.info.name), "user": .string(record.info.user),
                "role": .string(record.role), "hostname": .string(record.info.hostname ?? ""),
                "webui_url": .string(record.info.webuiURL ?? ""),
                "active": .bool(record.isConnected), "connected": .bool(record.isConnected),
                "recovered": .bool(record.recovered),
                "failover_timeout": .number(record.info.failoverTimeout ?? 0),
                "checkpoint": .bool(record.info.checkpoint ?? false),
                "registered_time": .number(record.registeredAt),
                "unregistered_time": .number(record.unregisteredAt ?? 0),
                "resources": used.legacyJSON, "used_resources": used.legacyJSON,
                "offered_resources": record.offers.compactMap { offers[$0]?.resources }.reduce(Resources(), +).legacyJSON,
                "tasks": .array(record.tasks.values.sorted { $0.task.taskID < $1.task.taskID }.map { task($0.task) }),
                "completed_tasks": .array(record.completedTasks.map(task)),
                "offers": .array(record.offers.sorted().map { .object(["id": .string($0.value)]) }),
                "executors": .array([]),
            ])
        }
        let slaves: [LegacyJSON] = agents.values.sorted { $0.id < $1.id }.map { agent in
            var attributes: [String: LegacyJSON] = [:]
            for attribute in agent.info.attributes {
                if let text = attribute.text?.value { attributes[attribute.name] = .string(text) }
                if let scalar = attribute.scalar?.value { attributes[attribute.name] = .number(scalar) }
            }
            let free = allocator.available(on: agent.id)
            return .object([
                "id": .string(agent.id.value), "pid": .string("slave(1)@\(agent.endpoint)"),
                "hostname": .string(agent.info.hostname), "port": .number(Double(agent.endpoint.port)),
                "registered_time": .number(agent.registeredAt),
                "resources": agent.total.legacyJSON, "unreserved_resources": agent.total.unreserved.legacyJSON,
                "used_resources": (agent.total - free).legacyJSON,
                "attributes": .object(attributes), "active": .bool(agent.isReachable), "version": .string(agent.version),
            ])
        }
        let reachable = agents.values.filter(\.isReachable).count
        return .object([
            "version": .string(VersionInfoText.mesosAPIVersion), "capstan_version": .string("0.1.0"),
            "build_date": .string("2026-11-25"), "build_user": .string("capstan"),
            "start_time": .number(startedAt), "elected_time": .number(startedAt),
            "id": .string(id.value), "pid": .string(pid), "hostname": .string(configuration.hostname),
            "leader": .string(pid),
            "leader_info": .object([
                "id": .string(id.value), "pid": .string(pid), "hostname": .string(configuration.hostname),
                "port": .number(Double(address.port)),
                "address": .object([
                    "hostname": .string(configuration.hostname), "ip": .string(address.host), "port": .number(Double(address.port)),
                ]),
            ]),
            "activated_slaves": .number(Double(reachable)),
            "deactivated_slaves": .number(0),
            "unreachable_slaves": .number(Double(agents.count - reachable)),
            "flags": .object(Dictionary(uniqueKeysWithValues: configuration.flags.map { ($0.0, LegacyJSON.string($0.1)) })),
            "slaves": .array(slaves),
            "frameworks": .array(frameworks.values.sorted { $0.id < $1.id }.map(framework)),
            "completed_frameworks": .array(completedFrameworks.map(framework)),
            "orphan_tasks": .array([]), "unregistered_frameworks": .array([]),
        ])
    }
}
