import CapstanCore
public import CapstanAPIClient
import CapstanAPI
import Foundation

/// The leader's proof of office: the leader key and the revision at which this master created it. The key is
/// re-created (at a new revision) by whoever leads next, so a write that compares it fails once this master is
/// deposed, even if it does not know yet.
public struct EtcdFence: Sendable, Equatable, CustomStringConvertible {
    public var leaderKey: String
    public var createRevision: Int64

    public init(leaderKey: String, createRevision: Int64) {
        self.leaderKey = leaderKey
        self.createRevision = createRevision
    }

    public var description: String { "\(leaderKey)@\(createRevision)" }
}

/// The master's registry in etcd, one key per record (`<prefix>/registry/agents/<id>`,
/// `<prefix>/registry/frameworks/<id>`, `<prefix>/registry/weights/<role>`, `<prefix>/registry/quotas/<role>` and
/// `<prefix>/registry/maintenance`, each the record's Mesos JSON). Every `apply` is one transaction guarded by
/// the leader's ``EtcdFence``: a deposed leader's writes never land, and `onFenced` tells it to step down.
public struct EtcdMasterRegistry: MasterRegistry {
    public let client: EtcdClient
    public let prefix: String
    public let fence: EtcdFence
    let onFenced: @Sendable () -> Void

    public init(client: EtcdClient, prefix: String, fence: EtcdFence, onFenced: @escaping @Sendable () -> Void = {}) {
        self.client = client
        self.prefix = prefix
        self.fence = fence
        self.onFenced = onFenced
    }

    var agentsPrefix: String { prefix + "/registry/agents/" }
    var frameworksPrefix: String { prefix + "/registry/frameworks/" }
    var weightsPrefix: String { prefix + "/registry/weights/" }
    var quotasPrefix: String { prefix + "/registry/quotas/" }
    var maintenanceKey: String { prefix + "/registry/maintenance" }

    public func load() async throws -> RegistryContents {
        var contents = RegistryContents()
        for kv in try await client.range(agentsPrefix, prefix: true) {
            let agent: RegisteredAgent = try decode(kv)
            contents.agents[agent.id] = agent
        }
        for kv in try await client.range(frameworksPrefix, prefix: true) {
            let framework: RegisteredFramework = try decode(kv)
            contents.frameworks[framework.id] = framework
        }
        for kv in try await client.range(weightsPrefix, prefix: true) {
            let weight: WeightInfo = try decode(kv)
            contents.weights[String(kv.key.dropFirst(weightsPrefix.count))] = weight.weight
        }
        for kv in try await client.range(quotasPrefix, prefix: true) {
            let quota: QuotaInfo = try decode(kv)
            contents.quotas[String(kv.key.dropFirst(quotasPrefix.count))] = quota
        }
        if let kv = try await client.range(maintenanceKey).first {
            contents.maintenance = try decode(kv)
        }
        return contents
    }

    public func apply(_ operations: [RegistryOperation]) async throws {
        guard !operations.isEmpty else { return }
        // etcd refuses a transaction that names a key twice: only the last operation on each key counts.
        var order: [String] = []
        var last: [String: EtcdOperation] = [:]
        for operation in operations {
            let (key, write): (String, EtcdOperation)
            switch operation {
            case .admitAgent(let agent):
                key = agentsPrefix + agent.id.value
                write = .put(key: key, value: try MesosJSON.encode(agent))
            case .removeAgent(let id):
                key = agentsPrefix + id.value
                write = .delete(key: key)
            case .recordFramework(let framework):
                key = frameworksPrefix + framework.id.value
                write = .put(key: key, value: try MesosJSON.encode(framework))
            case .removeFramework(let id):
                key = frameworksPrefix + id.value
                write = .delete(key: key)
            case .setWeight(let role, let weight):
                key = weightsPrefix + role
                write = .put(key: key, value: try MesosJSON.encode(WeightInfo(weight: weight, role: role)))
            case .setQuota(let quota):
                key = quotasPrefix + quota.registryRole
                write = .put(key: key, value: try MesosJSON.encode(quota))
            case .removeQuota(let role):
                key = quotasPrefix + role
                write = .delete(key: key)
            case .updateMaintenance(let maintenance):
                key = maintenanceKey
                write = .put(key: key, value: try MesosJSON.encode(maintenance))
            }
            if last.updateValue(write, forKey: key) == nil { order.append(key) }
        }
        let writes = order.compactMap { last[$0] }
        let result = try await client.txn(compare: [.createRevision(key: fence.leaderKey, equals: fence.createRevision)], success: writes)
        guard result.succeeded else {
            onFenced()
            throw CapstanError(
                .failedPrecondition,
                "Registry write refused: this master no longer holds the leader key \(fence) in etcd (another master leads now); it steps down")
        }
    }

    private func decode<T: Decodable>(_ kv: EtcdKeyValue) throws -> T {
        do {
            return try MesosJSON.decode(T.self, from: kv.value)
        } catch {
            throw CapstanError(
                .failedPrecondition, "etcd key '\(kv.key)' of the master's registry is unreadable; the master will not guess what it held",
                cause: error)
        }
    }
}
