/// A proto `repeated` field: a missing (or null) key decodes as `[]`, and an empty array is omitted on encode,
/// as Mesos does.
@propertyWrapper
public struct Repeated<Element: Codable & Sendable & Hashable>: Codable, Sendable, Hashable {
    public var wrappedValue: [Element]

    public init(wrappedValue: [Element] = []) {
        self.wrappedValue = wrappedValue
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        wrappedValue = container.decodeNil() ? [] : try container.decode([Element].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue)
    }
}

extension KeyedDecodingContainer {
    /// Chosen by synthesized `init(from:)` for `@Repeated` properties: a missing key is `[]`.
    public func decode<E>(_ type: Repeated<E>.Type, forKey key: Key) throws -> Repeated<E> {
        try decodeIfPresent(type, forKey: key) ?? Repeated()
    }
}

extension KeyedEncodingContainer {
    /// Chosen by synthesized `encode(to:)` for `@Repeated` properties: an empty array is omitted.
    public mutating func encode<E>(_ value: Repeated<E>, forKey key: Key) throws {
        guard !value.wrappedValue.isEmpty else { return }
        try encode(value.wrappedValue, forKey: key)
    }
}
