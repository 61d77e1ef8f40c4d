import CapstanCore

/// `ResourceProviderID`: `{"value": "…"}`.
public struct ResourceProviderID: StringIdentifier {
    public let value: String

    public init(_ value: String) { self.value = value }
}

/// `OperationID`: `{"value": "…"}`, set by a framework on an offer operation to get its status.
public struct OperationID: StringIdentifier {
    public let value: String

    public init(_ value: String) { self.value = value }
}
