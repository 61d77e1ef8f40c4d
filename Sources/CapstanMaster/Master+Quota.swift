import CapstanAPI
import CapstanCore
import CapstanHTTP
import Foundation
import Logging

/// UPDATE_WEIGHTS, GET/SET/REMOVE_QUOTA and SET_LOGGING_LEVEL: the operator calls that change how the master runs.
/// Weights and quota live in the allocator and in the registry: a change is durable before it answers
/// (Master+DurableChanges), and a restarted or newly elected master restores them.
extension Master {
    /// The operator calls answered with an empty 200: SET_LOGGING_LEVEL, UPDATE_WEIGHTS, SET_QUOTA, REMOVE_QUOTA.
    public static let commandCalls: Set<OperatorCall.Kind> = [.setLoggingLevel, .updateWeights, .setQuota, .removeQuota]

    /// Runs one of ``commandCalls``.
    public func operatorCommand(_ call: OperatorCall) async throws(CapstanError) {
        switch call.type {
        case .setLoggingLevel?:
            guard let body = call.setLoggingLevel else { throw CapstanError(.invalidArgument, "SET_LOGGING_LEVEL needs 'set_logging_level'") }
            let duration = try LogLevelControl.duration(nanoseconds: body.duration.nanoseconds, field: "set_logging_level.duration")
            LogLevelControl.shared.set(verbosity: body.level, for: duration)
            logger.notice("Logging level changed", metadata: ["level": "\(body.level)", "duration_secs": "\(duration.seconds)"])
        case .updateWeights?:
            guard let body = call.updateWeights else { throw CapstanError(.invalidArgument, "UPDATE_WEIGHTS needs 'update_weights'") }
            try await updateWeights(body.weightInfos, field: "update_weights.weight_infos")
        case .setQuota?:
            guard let body = call.setQuota else { throw CapstanError(.invalidArgument, "SET_QUOTA needs 'set_quota'") }
            try await setQuota(body.quotaRequest, field: "set_quota.quota_request")
        case .removeQuota?:
            guard let body = call.removeQuota else { throw CapstanError(.invalidArgument, "REMOVE_QUOTA needs 'remove_quota'") }
            try await removeQuota(body.role, field: "remove_quota.role")
        default:
            throw CapstanError(.invalidArgument, "\(call.type?.rawValue ?? "UNKNOWN") is answered with content")
        }
    }

    /// The weight infos of every role with a weight set, by role.
    func weightInfos() -> [WeightInfo] {
        allocator.roleWeights.sorted { $0.key < $1.key }.map { WeightInfo(weight: $0.value, role: $0.key) }
    }

    /// UPDATE_WEIGHTS and `PUT /weights`: all infos are checked, then written to the registry together, before any
    /// weight changes.
    public func updateWeights(_ infos: [WeightInfo], field: String) async throws(CapstanError) {
        try await oneChangeAtATime { () async throws(CapstanError) in try await updateWeightsNow(infos, field: field) }
    }

    private func updateWeightsNow(_ infos: [WeightInfo], field: String) async throws(CapstanError) {
        var weights: [String: Double] = [:]
        for (index, info) in infos.enumerated() {
            let path = "\(field)[\(index)]"
            guard let role = info.role else { throw CapstanError(.invalidArgument, "\(path).role must be set") }
            try RoleName.validate(role, field: "\(path).role")
            guard info.weight > 0, info.weight.isFinite else {
                throw CapstanError(.invalidArgument, "\(path).weight must be > 0 (it was \(info.weight))")
            }
            weights[role] = info.weight
        }
        try await persist(weights.sorted { $0.key < $1.key }.map { .setWeight(role: $0.key, weight: $0.value) }, what: "UPDATE_WEIGHTS")
        allocator.updateWeights(weights)
        logger.info("Role weights updated", metadata: ["weights": "\(weights.sorted { $0.key < $1.key })"])
        requestAllocation()
    }

    /// GET_QUOTA and `GET /quota`.
    public func quotaStatus() -> QuotaStatus {
        QuotaStatus(
            infos: allocator.quotaGuarantees.sorted { $0.key < $1.key }.map { QuotaInfo(role: $0.key, guarantee: $0.value.mesos) })
    }

    /// SET_QUOTA and `POST /quota`. `field` names the request in error messages.
    public func setQuota(_ request: QuotaRequest, field: String) async throws(CapstanError) {
        try await oneChangeAtATime { () async throws(CapstanError) in try await setQuotaNow(request, field: field) }
    }

    private func setQuotaNow(_ request: QuotaRequest, field: String) async throws(CapstanError) {
        guard let role = request.role else { throw CapstanError(.invalidArgument, "\(field).role must be set") }
        try RoleName.validate(role, field: "\(field).role")
        guard role != Resource.unreservedRole else {
            throw CapstanError(.invalidArgument, "\(field).role: quota cannot be set for the default role '*'")
        }
        guard allocator.quotaGuarantees[role] == nil else {
            throw CapstanError(.invalidArgument, "\(field).role: role '\(role)' already has quota; remove it first (REMOVE_QUOTA)")
        }
        let guarantee = try Self.quotaGuarantee(request.guarantee, field: "\(field).guarantee")
        if request.force != true {
            // Mesos' capacity heuristic: all guarantees together must fit what the agents have.
            var total = Resources()
            for agent in agents.values where agent.isReachable { total += agent.total }
            let wanted = allocator.quotaGuarantees.values.reduce(guarantee, +)
            for entry in wanted {
                guard case .scalar(let quantity) = entry.value, quantity > total.scalar(entry.name) + 1e-9 else { continue }
                throw CapstanError(
                    .conflict,
                    "\(field): the quotas would guarantee \(quantity) \(entry.name) but the agents have \(total.scalar(entry.name)) in all; set \(field).force to set it anyway")
            }
        }
        try await persist([.setQuota(QuotaInfo(role: role, guarantee: guarantee.mesos))], what: "SET_QUOTA for role '\(role)'")
        allocator.setQuota(role, guarantee: guarantee)
        logger.info("Quota set", metadata: ["role": "\(role)", "guarantee": "\(guarantee)"])
        requestAllocation()
    }

    /// REMOVE_QUOTA and `DELETE /quota/ROLE`.
    public func removeQuota(_ role: String, field: String) async throws(CapstanError) {
        try await oneChangeAtATime { () async throws(CapstanError) in
            guard allocator.quotaGuarantees[role] != nil else {
                throw CapstanError(.invalidArgument, "\(field): role '\(role)' has no quota set")
            }
            try await persist([.removeQuota(role: role)], what: "REMOVE_QUOTA for role '\(role)'")
            allocator.removeQuota(role)
        }
        logger.info("Quota removed", metadata: ["role": "\(role)"])
        requestAllocation()
    }

    /// A guarantee as Mesos 1.0 takes it: unreserved scalars, each named once, none negative, at least one.
    static func quotaGuarantee(_ list: [MesosResource], field: String) throws(CapstanError) -> Resources {
        guard !list.isEmpty else { throw CapstanError(.invalidArgument, "\(field) must name at least one resource") }
        var seen: Set<String> = []
        for (index, resource) in list.enumerated() {
            let path = "\(field)[\(index)]"
            guard resource.type == .scalar, let scalar = resource.scalar else {
                throw CapstanError(.invalidArgument, "\(path): quota takes scalar resources only ('\(resource.name)' is \(resource.type.rawValue))")
            }
            guard scalar.value >= 0, scalar.value.isFinite else {
                throw CapstanError(.invalidArgument, "\(path).scalar.value must be >= 0 (it was \(scalar.value))")
            }
            if let role = resource.role, role != Resource.unreservedRole {
                throw CapstanError(.invalidArgument, "\(path).role: quota takes unreserved resources ('*'), not '\(role)'")
            }
            guard resource.reservation == nil, resource.reservations.isEmpty, resource.disk == nil, resource.revocable == nil else {
                throw CapstanError(.invalidArgument, "\(path): quota takes plain resources (no reservation, disk or revocable)")
            }
            guard seen.insert(resource.name).inserted else {
                throw CapstanError(.invalidArgument, "\(path): '\(resource.name)' is named twice")
            }
        }
        do { return try Resources(mesos: list) } catch { throw CapstanError(.invalidArgument, "\(field): \(error.message)") }
    }
}

/// Mesos' rules for a role name.
enum RoleName {
    static func validate(_ role: String, field: String) throws(CapstanError) {
        let problem: String? =
            if role.isEmpty { "must not be empty" }
            else if role == "." || role == ".." { "must not be '.' or '..'" }
            else if role.hasPrefix("-") { "must not start with '-'" }
            else if role.contains(where: { $0 == "/" || $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 || $0 == 0x7F } == true }) {
                "must not contain '/', whitespace or control characters"
            } else { nil }
        if let problem { throw CapstanError(.invalidArgument, "\(field) '\(role)' \(problem)") }
    }
}
