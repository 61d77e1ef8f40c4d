/// A proto enum carried as its value name (`"TASK_RUNNING"`); an unknown name is a decode error naming the field.
public protocol MesosEnum: RawRepresentable, Codable, Sendable, Hashable, CaseIterable where RawValue == String {}

extension MesosEnum {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let value = Self(rawValue: name) else {
            let field = decoder.codingPath.last.map { $0.intValue == nil ? $0.stringValue : "" } ?? ""
            let enumName = field.isEmpty ? String(describing: Self.self) : field
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "unknown value '\(name)' for enum '\(enumName)'")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
