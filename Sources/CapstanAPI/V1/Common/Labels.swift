/// `Labels`: free-form key/value pairs.
public struct Labels: Codable, Sendable, Hashable {
    @Repeated public var labels: [Label]

    public init(labels: [Label] = []) { self.labels = labels }
}

/// `Label`.
public struct Label: Codable, Sendable, Hashable {
    public var key: String
    public var value: String?

    public init(key: String, value: String? = nil) {
        self.key = key
        self.value = value
    }
}

/// `Parameter`: a key/value pair.
public struct Parameter: Codable, Sendable, Hashable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// `Parameters`.
public struct Parameters: Codable, Sendable, Hashable {
    @Repeated public var parameter: [Parameter]

    public init(parameter: [Parameter] = []) { self.parameter = parameter }
}
