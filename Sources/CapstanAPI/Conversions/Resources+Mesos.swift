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
            converted.append(Resource(name: resource.name, value: value, role: role))
        }
        self.init(converted)
    }

    /// The wire form, one MesosResource per normalized entry, with `role` set as Mesos 1.0 clients expect.
    public var mesos: [MesosResource] {
        entries.map { entry in
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
