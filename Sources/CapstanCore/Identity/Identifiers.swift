/// A string identifier with its own type, so an agent ID can never be passed where a task ID is wanted.
public protocol StringIdentifier: Hashable, Sendable, Comparable, CustomStringConvertible, Codable,
    ExpressibleByStringLiteral
{
    var value: String { get }
    init(_ value: String)
}

extension StringIdentifier {
    public init(stringLiteral value: String) { self.init(value) }
    public var description: String { value }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.value < rhs.value }

    /// Encodes as the Mesos wire form `{"value": "…"}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: IdentifierCodingKey.self)
        try container.encode(value, forKey: .value)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: IdentifierCodingKey.self)
        self.init(try container.decode(String.self, forKey: .value))
    }
}

/// The single key of the Mesos ID messages.
public enum IdentifierCodingKey: String, CodingKey { case value }

/// Identifies one master for the lifetime of its process.
public struct MasterID: StringIdentifier { public let value: String; public init(_ value: String) { self.value = value } }
/// Identifies an agent; persisted by the agent so re-registration keeps it.
public struct AgentID: StringIdentifier { public let value: String; public init(_ value: String) { self.value = value } }
/// Identifies a framework (scheduler) across failovers.
public struct FrameworkID: StringIdentifier { public let value: String; public init(_ value: String) { self.value = value } }
/// Identifies a task within its framework.
public struct TaskID: StringIdentifier { public let value: String; public init(_ value: String) { self.value = value } }
/// Identifies an executor within its framework.
public struct ExecutorID: StringIdentifier { public let value: String; public init(_ value: String) { self.value = value } }
/// Identifies one offer.
public struct OfferID: StringIdentifier { public let value: String; public init(_ value: String) { self.value = value } }
/// Identifies a container on an agent.
public struct ContainerID: StringIdentifier { public let value: String; public init(_ value: String) { self.value = value } }

/// The name of an app or job (`metadata.name`, a DNS label): what the planner, the reconciler, task labels and
/// history key apps by. Written as the bare string in JSON (status documents, history), not as a Mesos ID object.
public struct AppName: Hashable, Sendable, Comparable, CustomStringConvertible, ExpressibleByStringInterpolation, Codable {
    public let value: String
    public init(_ value: String) { self.value = value }
    public init(stringLiteral value: String) { self.init(value) }
    public var description: String { value }
    public static func < (lhs: AppName, rhs: AppName) -> Bool { lhs.value < rhs.value }

    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
