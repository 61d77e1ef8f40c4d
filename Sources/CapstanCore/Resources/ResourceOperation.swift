/// RESERVE, UNRESERVE, CREATE and DESTROY (Mesos' offer operations and operator calls) as pure conversions: what an
/// operation takes from the resources at hand and what it puts there instead, after Mesos 1.0's rules.
///
/// - RESERVE turns unreserved resources into the same resources reserved for a role by a principal.
/// - UNRESERVE gives dynamically reserved resources back (never a volume: DESTROY it first).
/// - CREATE makes a persistent volume from reserved disk; a volume ID is unique per role on an agent.
/// - DESTROY turns a whole volume back into the reserved disk it was made from (the agent deletes its data). A
///   volume a task uses is not among the resources at hand, so it cannot be destroyed.
public enum ResourceOperation: Sendable, Hashable {
    case reserve(Resources)
    case unreserve(Resources)
    case create(Resources)
    case destroy(Resources)

    /// What the operation consumes and what it produces instead.
    public struct Conversion: Sendable, Hashable {
        public var consumed: Resources
        public var converted: Resources
    }

    /// The operation's name as Mesos spells it.
    public var name: String {
        switch self {
        case .reserve: "RESERVE"
        case .unreserve: "UNRESERVE"
        case .create: "CREATE"
        case .destroy: "DESTROY"
        }
    }

    /// - Parameters:
    ///   - available: the resources at hand (an accepted offer's, or an agent's unallocated ones).
    ///   - role: the acting framework's role; nil for an operator, who may act for any role.
    ///   - principal: who acts; a reservation or volume must name this principal when it is given.
    ///   - agentTotal: everything the agent has, for the uniqueness of volume IDs.
    ///   - field: the request's path, for messages, e.g. `accept.operations[1]`.
    /// - Throws: `invalidArgument` naming the field and the broken rule, or `failedPrecondition` when the resources are
    ///   not at hand.
    public func conversion(
        available: Resources, role: String?, principal: String?, agentTotal: Resources, field: String
    ) throws(CapstanError) -> Conversion {
        switch self {
        case .reserve(let resources):
            try Self.check(resources, field: field + ".reserve.resources", role: role) { entry throws(CapstanError) in
                guard entry.volume == nil else { throw CapstanError(.invalidArgument, "a volume cannot be reserved; RESERVE disk, then CREATE") }
                guard let reservation = entry.reservation else {
                    throw CapstanError(.invalidArgument, "'\(entry)' names no reservation (the resource's 'reservation' with a principal)")
                }
                if let principal, reservation.principal != principal {
                    throw CapstanError(
                        .permissionDenied, "'\(entry)' is reserved by '\(reservation.principal ?? "")', not by '\(principal)' who asks")
                }
            }
            let consumed = Resources(resources.map(\.unreservedCopy))
            try Self.requireAvailable(consumed, in: available, field: field + ".reserve.resources")
            return Conversion(consumed: consumed, converted: resources)
        case .unreserve(let resources):
            try Self.check(resources, field: field + ".unreserve.resources", role: role) { entry throws(CapstanError) in
                guard entry.volume == nil else {
                    throw CapstanError(.failedPrecondition, "'\(entry)' is a persistent volume: DESTROY it before UNRESERVE")
                }
                guard entry.reservation != nil else {
                    throw CapstanError(.invalidArgument, "'\(entry)' is not dynamically reserved (static reservations come from the agent's flags)")
                }
            }
            try Self.requireAvailable(resources, in: available, field: field + ".unreserve.resources")
            return Conversion(consumed: resources, converted: Resources(resources.map(\.unreservedCopy)))
        case .create(let volumes):
            var ids: Set<String> = []
            try Self.check(volumes, field: field + ".create.volumes", role: role) { entry throws(CapstanError) in
                guard let volume = entry.volume else {
                    throw CapstanError(.invalidArgument, "'\(entry)' has no disk.persistence: CREATE makes persistent volumes")
                }
                guard !volume.containerPath.isEmpty, !volume.containerPath.hasPrefix("/"),
                    !volume.containerPath.split(separator: "/").contains("..")
                else {
                    throw CapstanError(.invalidArgument, "volume '\(volume.id)': container_path '\(volume.containerPath)' must be a path relative to the sandbox, without '..'")
                }
                guard Self.isVolumeID(entry.role) else {
                    throw CapstanError(.invalidArgument, "role '\(entry.role)' cannot hold volumes: its name must be letters, digits, '.', '_' or '-'")
                }
                guard Self.isVolumeID(volume.id) else {
                    throw CapstanError(.invalidArgument, "volume ID '\(volume.id)' must be 1-200 letters, digits, '.', '_' or '-' and not '.' or '..'")
                }
                guard ids.insert(entry.role + "/" + volume.id).inserted,
                    !agentTotal.contains(where: { $0.role == entry.role && $0.volume?.id == volume.id })
                else {
                    throw CapstanError(.alreadyExists, "volume '\(volume.id)' of role '\(entry.role)' already exists on this agent")
                }
                if let principal, let creator = volume.principal, creator != principal {
                    throw CapstanError(.permissionDenied, "volume '\(volume.id)' names principal '\(creator)', not '\(principal)' who asks")
                }
            }
            let consumed = Resources(volumes.map(\.withoutVolume))
            try Self.requireAvailable(consumed, in: available, field: field + ".create.volumes")
            return Conversion(consumed: consumed, converted: volumes)
        case .destroy(let volumes):
            try Self.check(volumes, field: field + ".destroy.volumes", role: role) { entry throws(CapstanError) in
                guard entry.volume != nil else { throw CapstanError(.invalidArgument, "'\(entry)' is not a persistent volume") }
            }
            for entry in volumes where !available.contains(where: { $0 == entry }) {
                let exists = agentTotal.contains { $0.role == entry.role && $0.volume?.id == entry.volume?.id }
                throw CapstanError(
                    .failedPrecondition,
                    exists
                        ? "\(field).destroy.volumes: volume '\(entry.volume?.id ?? "")' is in use by a task (or not offered whole as '\(entry)'); it cannot be destroyed now"
                        : "\(field).destroy.volumes: volume '\(entry.volume?.id ?? "")' of role '\(entry.role)' does not exist on this agent")
            }
            return Conversion(consumed: volumes, converted: Resources(volumes.map(\.withoutVolume)))
        }
    }

    /// A volume ID names a directory under the agent's work dir.
    public static func isVolumeID(_ id: String) -> Bool {
        (1...200).contains(id.utf8.count) && id != "." && id != ".."
            && id.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x61 && $0 <= 0x7a) || $0 == 0x2e || $0 == 0x5f || $0 == 0x2d }
    }

    private static func check(
        _ resources: Resources, field: String, role: String?, _ rule: (Resource) throws(CapstanError) -> Void
    ) throws(CapstanError) {
        guard !resources.isEmpty else { throw CapstanError(.invalidArgument, "\(field) is empty") }
        for entry in resources {
            guard entry.role != Resource.unreservedRole else {
                throw CapstanError(.invalidArgument, "\(field): '\(entry)' has role '*'; name the role the resources are for")
            }
            if let role, entry.role != role {
                throw CapstanError(.permissionDenied, "\(field): '\(entry)' is for role '\(entry.role)', not the framework's role '\(role)'")
            }
            do { try rule(entry) } catch { throw CapstanError(error.code, "\(field): \(error.message)") }
        }
    }

    private static func requireAvailable(_ wanted: Resources, in available: Resources, field: String) throws(CapstanError) {
        guard available.contains(wanted) else {
            throw CapstanError(.failedPrecondition, "\(field): \(wanted) is not among the resources at hand (\(available))")
        }
    }
}
