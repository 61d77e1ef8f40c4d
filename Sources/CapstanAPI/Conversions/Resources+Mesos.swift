import CapstanCore

extension Resources {
    /// Converts wire resources into Core resources; a resource whose `type` does not match its value is an error
    /// naming the resource.
    public init(mesos resources: [MesosResource]) throws(CapstanError) {
        var converted: [Resource] = []
        converted.reserveCapacity(resources.count)
        for (index, resource) in resources.enumerated() {
            let role = resource.role ?? resource.reservations.last?.role ?? "*"
            let value: ResourceValue
            switch resource.type {
            case .scalar:
                guard let scalar = resource.scalar?.value else {
                    throw CapstanError(.invalidArgument, "resources[\(index)] '\(resource.name)' is SCALAR but has no 'scalar'")
                }
                guard scalar.isFinite, scalar >= 0 else {
                    throw CapstanError(.invalidArgument, "resources[\(index)] '\(resource.name)' has a negative or non-finite scalar \(scalar)")
                }
                value = .scalar(scalar)
            case .ranges:
                guard let ranges = resource.ranges else {
                    throw CapstanError(.invalidArgument, "resources[\(index)] '\(resource.name)' is RANGES but has no 'ranges'")
                }
                for range in ranges.range where range.begin > range.end {
                    throw CapstanError(.invalidArgument, "resources[\(index)] '\(resource.name)' has a range \(range.begin)-\(range.end) whose begin is after its end")
                }
                value = .ranges(ranges.range.map { ValueRange(begin: $0.begin, end: $0.end) })
            case .set:
                guard let set = resource.set else {
                    throw CapstanError(.invalidArgument, "resources[\(index)] '\(resource.name)' is SET but has no 'set'")
                }
                value = .set(set.item)
            case .text:
                throw CapstanError(.invalidArgument, "resources[\(index)] '\(resource.name)' has type TEXT, which resources cannot have")
            }
            let reservation = try Self.reservation(resource, index: index, role: role)
            let volume = try Self.volume(resource, index: index, role: role, value: value)
            converted.append(Resource(name: resource.name, value: value, role: role, reservation: reservation, volume: volume))
        }
        self.init(converted)
    }

    /// A dynamic reservation: Mesos 1.0's `reservation`, or the last DYNAMIC entry of later versions' `reservations`.
    private static func reservation(_ resource: MesosResource, index: Int, role: String) throws(CapstanError) -> ResourceReservation? {
        let info = resource.reservation ?? resource.reservations.last { $0.type == .dynamic }
        guard let info else { return nil }
        guard role != Resource.unreservedRole else {
            throw CapstanError(.invalidArgument, "resources[\(index)] '\(resource.name)' has a reservation but role '*'; a reservation needs a role")
        }
        return ResourceReservation(
            principal: info.principal, labels: (info.labels?.labels ?? []).map { ResourceLabel(key: $0.key, value: $0.value) })
    }

    /// A persistent volume: `disk.persistence` with a read-write `disk.volume` on reserved disk.
    private static func volume(_ resource: MesosResource, index: Int, role: String, value: ResourceValue) throws(CapstanError) -> PersistentVolume? {
        guard let disk = resource.disk else { return nil }
        let field = "resources[\(index)].disk"
        guard resource.name == "disk", case .scalar = value else {
            throw CapstanError(.invalidArgument, "\(field): only the scalar resource 'disk' has disk info, not '\(resource.name)'")
        }
        if disk.source != nil {
            throw CapstanError(.invalidArgument, "\(field).source: PATH and MOUNT disks are not supported by this master")
        }
        guard let persistence = disk.persistence else {
            guard disk.volume == nil else { throw CapstanError(.invalidArgument, "\(field).volume needs disk.persistence") }
            return nil
        }
        guard !persistence.id.isEmpty else { throw CapstanError(.invalidArgument, "\(field).persistence.id is empty") }
        guard let volume = disk.volume else {
            throw CapstanError(.invalidArgument, "\(field).volume is missing: a persistent volume needs a container_path")
        }
        guard volume.mode == .rw else {
            throw CapstanError(.invalidArgument, "\(field).volume.mode must be RW (read-only persistent volumes are not supported, as in Mesos)")
        }
        guard role != Resource.unreservedRole else {
            throw CapstanError(.invalidArgument, "\(field): a persistent volume is made from reserved disk; role '*' has none")
        }
        return PersistentVolume(id: persistence.id, principal: persistence.principal, containerPath: volume.containerPath)
    }

    /// The wire form, one MesosResource per normalized entry, with `role` (and `reservation`) set as Mesos 1.0 clients
    /// expect.
    public var mesos: [MesosResource] {
        entries.map { entry in
            var resource = Self.plainMesos(entry)
            if let reservation = entry.reservation {
                resource.reservation = MesosResource.ReservationInfo(
                    principal: reservation.principal,
                    labels: reservation.labels.isEmpty ? nil : Labels(labels: reservation.labels.map { Label(key: $0.key, value: $0.value) }))
            }
            if let volume = entry.volume {
                resource.disk = MesosResource.DiskInfo(
                    persistence: .init(id: volume.id, principal: volume.principal), volume: Volume(mode: .rw, containerPath: volume.containerPath))
            }
            return resource
        }
    }

    private static func plainMesos(_ entry: Resource) -> MesosResource {
            switch entry.value {
            case .scalar(let value):
                MesosResource(name: entry.name, type: .scalar, scalar: ValueScalar(value: value), role: entry.role)
            case .ranges(let ranges):
                MesosResource(
                    name: entry.name, type: .ranges,
                    ranges: ValueRanges(range: ranges.map { MesosValueRange(begin: $0.begin, end: $0.end) }), role: entry.role)
            case .set(let items):
                MesosResource(name: entry.name, type: .set, set: ValueSet(item: items), role: entry.role)
            }
    }
}

extension MesosAttribute {
    /// The wire form of a Core attribute.
    public init(_ attribute: Attribute) {
        switch attribute.value {
        case .text(let text): self.init(name: attribute.name, type: .text, text: ValueText(value: text))
        case .scalar(let value): self.init(name: attribute.name, type: .scalar, scalar: ValueScalar(value: value))
        case .ranges(let ranges):
            self.init(
                name: attribute.name, type: .ranges,
                ranges: ValueRanges(range: ranges.map { MesosValueRange(begin: $0.begin, end: $0.end) }))
        }
    }
}

extension Attribute {
    /// The Core form of a wire attribute; nil for kinds Core does not model (sets).
    public init?(mesos attribute: MesosAttribute) {
        if let text = attribute.text?.value {
            self.init(name: attribute.name, value: .text(text))
        } else if let scalar = attribute.scalar?.value {
            self.init(name: attribute.name, value: .scalar(scalar))
        } else if let ranges = attribute.ranges?.range {
            self.init(name: attribute.name, value: .ranges(ranges.map { ValueRange(begin: $0.begin, end: $0.end) }))
        } else {
            return nil
        }
    }
}
