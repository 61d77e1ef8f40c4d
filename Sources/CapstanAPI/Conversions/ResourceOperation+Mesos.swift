import CapstanCore

extension ResourceOperation {
    /// The resource operation of an offer operation: RESERVE, UNRESERVE, CREATE or DESTROY; nil for other kinds.
    /// - Throws: `invalidArgument` naming `field` when the operation lacks its body or its resources are invalid.
    public init?(mesos operation: Offer.Operation, field: String) throws(CapstanError) {
        func resources(_ list: [MesosResource]?, _ body: String) throws(CapstanError) -> Resources {
            guard let list else { throw CapstanError(.invalidArgument, "\(field).\(body) is missing") }
            do { return try Resources(mesos: list) } catch { throw CapstanError(.invalidArgument, "\(field).\(body): \(error.message)") }
        }
        switch operation.type {
        case .reserve?: self = .reserve(try resources(operation.reserve?.resources, "reserve.resources"))
        case .unreserve?: self = .unreserve(try resources(operation.unreserve?.resources, "unreserve.resources"))
        case .create?: self = .create(try resources(operation.create?.volumes, "create.volumes"))
        case .destroy?: self = .destroy(try resources(operation.destroy?.volumes, "destroy.volumes"))
        default: return nil
        }
    }
}
