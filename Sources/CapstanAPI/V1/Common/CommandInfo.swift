/// `CommandInfo`: a command to run, by default with `/bin/sh -c value`.
public struct CommandInfo: Codable, Sendable, Hashable {
    @Repeated public var uris: [URI]
    public var environment: Environment?
    /// When nil, Mesos' default (`true`) applies: `value` runs under `/bin/sh -c`.
    public var shell: Bool?
    public var value: String?
    @Repeated public var arguments: [String]
    public var user: String?

    public init(
        uris: [URI] = [], environment: Environment? = nil, shell: Bool? = nil, value: String? = nil,
        arguments: [String] = [], user: String? = nil
    ) {
        self.uris = uris
        self.environment = environment
        self.shell = shell
        self.value = value
        self.arguments = arguments
        self.user = user
    }

    /// Whether `value` runs under a shell (the proto default is true).
    public var runsInShell: Bool { shell ?? true }

    /// `CommandInfo.URI`: a URI fetched into the sandbox before the command runs.
    public struct URI: Codable, Sendable, Hashable {
        public var value: String
        public var executable: Bool?
        public var extract: Bool?
        public var cache: Bool?
        public var outputFile: String?

        enum CodingKeys: String, CodingKey {
            case value, executable, extract, cache
            case outputFile = "output_file"
        }

        public init(
            value: String, executable: Bool? = nil, extract: Bool? = nil, cache: Bool? = nil, outputFile: String? = nil
        ) {
            self.value = value
            self.executable = executable
            self.extract = extract
            self.cache = cache
            self.outputFile = outputFile
        }
    }
}

/// `Environment`: environment variables for a command.
public struct Environment: Codable, Sendable, Hashable {
    @Repeated public var variables: [Variable]

    public init(variables: [Variable] = []) { self.variables = variables }

    /// `Environment.Variable`.
    public struct Variable: Codable, Sendable, Hashable {
        /// `Variable.Type`.
        public enum Kind: String, MesosEnum {
            case unknown = "UNKNOWN"
            case value = "VALUE"
            case secret = "SECRET"
        }

        public var name: String
        public var type: Kind?
        public var value: String?
        public var secret: Secret?

        public init(name: String, type: Kind? = nil, value: String? = nil, secret: Secret? = nil) {
            self.name = name
            self.type = type
            self.value = value
            self.secret = secret
        }
    }
}

/// `Secret`: a secret passed by value or by reference.
public struct Secret: Codable, Sendable, Hashable {
    /// `Secret.Type`.
    public enum Kind: String, MesosEnum {
        case unknown = "UNKNOWN"
        case reference = "REFERENCE"
        case value = "VALUE"
    }

    /// `Secret.Reference`.
    public struct Reference: Codable, Sendable, Hashable {
        public var name: String
        public var key: String?

        public init(name: String, key: String? = nil) {
            self.name = name
            self.key = key
        }
    }

    /// `Secret.Value`.
    public struct Value: Codable, Sendable, Hashable {
        public var data: Base64Bytes

        public init(data: Base64Bytes) { self.data = data }
    }

    public var type: Kind?
    public var reference: Reference?
    public var value: Value?

    public init(type: Kind? = nil, reference: Reference? = nil, value: Value? = nil) {
        self.type = type
        self.reference = reference
        self.value = value
    }
}
