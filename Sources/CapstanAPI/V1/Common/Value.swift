/// `Value.Type`: the kind of a resource or attribute value.
public enum ValueType: String, MesosEnum {
    case scalar = "SCALAR"
    case ranges = "RANGES"
    case set = "SET"
    case text = "TEXT"
}

/// `Value.Scalar`.
public struct ValueScalar: Codable, Sendable, Hashable {
    public var value: Double

    public init(value: Double) { self.value = value }
}

/// `Value.Range`: an inclusive range `[begin, end]` (renamed: CapstanCore has its own `ValueRange`).
public struct MesosValueRange: Codable, Sendable, Hashable {
    @WireInteger public var begin: UInt64
    @WireInteger public var end: UInt64

    public init(begin: UInt64, end: UInt64) {
        self.begin = begin
        self.end = end
    }
}

/// `Value.Ranges`.
public struct ValueRanges: Codable, Sendable, Hashable {
    @Repeated public var range: [MesosValueRange]

    public init(range: [MesosValueRange] = []) { self.range = range }
}

/// `Value.Set`.
public struct ValueSet: Codable, Sendable, Hashable {
    @Repeated public var item: [String]

    public init(item: [String] = []) { self.item = item }
}

/// `Value.Text`.
public struct ValueText: Codable, Sendable, Hashable {
    public var value: String

    public init(value: String) { self.value = value }
}

/// `Attribute` in mesos.proto: a named value describing an agent (renamed: CapstanCore has its own `Attribute`).
public struct MesosAttribute: Codable, Sendable, Hashable {
    public var name: String
    public var type: ValueType
    public var scalar: ValueScalar?
    public var ranges: ValueRanges?
    public var set: ValueSet?
    public var text: ValueText?

    public init(
        name: String, type: ValueType, scalar: ValueScalar? = nil, ranges: ValueRanges? = nil, set: ValueSet? = nil,
        text: ValueText? = nil
    ) {
        self.name = name
        self.type = type
        self.scalar = scalar
        self.ranges = ranges
        self.set = set
        self.text = text
    }
}
