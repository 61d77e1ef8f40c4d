/// Reads a 64-bit proto integer from a JSON number or a decimal string (the proto3 JSON mapping writes
/// int64/uint64 as strings; Mesos writes numbers). Always written as a number.
@propertyWrapper
public struct WireInteger<Value: FixedWidthInteger & Codable & Sendable>: Codable, Sendable, Hashable {
    public var wrappedValue: Value

    public init(wrappedValue: Value) {
        self.wrappedValue = wrappedValue
    }

    public init(from decoder: any Decoder) throws {
        wrappedValue = try decodeWireInteger(Value.self, from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue)
    }
}

/// An optional 64-bit proto integer: number or decimal string in, number out, omitted when nil.
@propertyWrapper
public struct OptionalWireInteger<Value: FixedWidthInteger & Codable & Sendable>: Codable, Sendable, Hashable {
    public var wrappedValue: Value?

    public init(wrappedValue: Value?) {
        self.wrappedValue = wrappedValue
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        wrappedValue = container.decodeNil() ? nil : try decodeWireInteger(Value.self, from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

func decodeWireInteger<Value: FixedWidthInteger & Decodable>(_ type: Value.Type, from decoder: any Decoder) throws
    -> Value
{
    let container = try decoder.singleValueContainer()
    if let value = try? container.decode(Value.self) { return value }
    if let text = try? container.decode(String.self) {
        if let value = Value(text) { return value }
        throw DecodingError.dataCorruptedError(
            in: container, debugDescription: "'\(text)' is not a valid \(Value.self) integer")
    }
    if let number = try? container.decode(Double.self), number.rounded() == number, let value = Value(exactly: number) {
        return value
    }
    throw DecodingError.dataCorruptedError(
        in: container, debugDescription: "expected an integer (\(Value.self)) as a number or a decimal string")
}

extension KeyedDecodingContainer {
    /// Chosen by synthesized `init(from:)` for `@OptionalWireInteger` properties: a missing key is nil.
    public func decode<V>(_ type: OptionalWireInteger<V>.Type, forKey key: Key) throws -> OptionalWireInteger<V> {
        try decodeIfPresent(type, forKey: key) ?? OptionalWireInteger(wrappedValue: nil)
    }
}

extension KeyedEncodingContainer {
    /// Chosen by synthesized `encode(to:)` for `@OptionalWireInteger` properties: nil is omitted.
    public mutating func encode<V>(_ value: OptionalWireInteger<V>, forKey key: Key) throws {
        guard let number = value.wrappedValue else { return }
        try encode(number, forKey: key)
    }
}
