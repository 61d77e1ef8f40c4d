/// The value of an agent attribute, after Mesos' attribute types (`TEXT`, `SCALAR`, `RANGES`).
public enum AttributeValue: Hashable, Sendable, CustomStringConvertible {
    /// Any text that is not a number or ranges, such as `zone:a`.
    case text(String)
    /// A number, such as `rack:1`.
    case scalar(Double)
    /// Inclusive ranges, such as `ports:[1-2]`.
    case ranges([ValueRange])

    /// The flag form of the value: `a`, `1`, `[1-2]`.
    public var description: String {
        switch self {
        case .text(let text): text
        case .scalar(let number): ScalarFormat.text(number)
        case .ranges(let ranges): "[\(ranges.map(\.description).joined(separator: ", "))]"
        }
    }
}

/// Attributes an agent sets itself.
public enum AgentAttribute {
    /// The CNI networks an agent has, comma-separated (`capstan,storage-net`): frameworks and the planner place
    /// networked tasks only on agents that have their network.
    public static let cniNetworks = "cni_networks"

    /// The CDI devices an agent's specs define, comma-separated fully qualified names
    /// (`vendor.com/gpu=0,vendor.com/gpu=1`): the planner places tasks that ask for devices only where they all are.
    public static let cdiDevices = "cdi_devices"

    /// The devices named by a `cdi_devices` value.
    public static func devices(_ attributes: [String: String]) -> Set<String> {
        Set((attributes[cdiDevices] ?? "").split(separator: ",").map(String.init))
    }

    /// The networks named by a `cni_networks` value.
    public static func networks(_ attributes: [String: String]) -> Set<String> {
        Set((attributes[cniNetworks] ?? "").split(separator: ",").map(String.init))
    }
}

/// One agent attribute, such as `zone:a`, used by frameworks for placement constraints.
public struct Attribute: Hashable, Sendable, CustomStringConvertible {
    /// The attribute name.
    public var name: String
    /// The attribute value.
    public var value: AttributeValue

    /// Creates an attribute.
    public init(name: String, value: AttributeValue) {
        self.name = name
        self.value = value
    }

    /// `name:value`, the flag form.
    public var description: String { "\(name):\(value)" }
}

/// Parses the agent's `--attributes` flag.
public enum AttributeParser {
    /// Parses `"zone:a;rack:1;ports:[1-2]"` into attributes, in the order given.
    ///
    /// As in Mesos, a value in brackets is ranges, a value that reads as a number is a scalar,
    /// and anything else is text; sets (`{…}`) are rejected, and each item holds exactly one `:`.
    public static func parse(_ text: String) throws(ResourceParseError) -> [Attribute] {
        let scanner = FlagScanner(text, subject: "attributes")
        var out: [Attribute] = []
        for item in scanner.items() {
            guard let colon = scanner.firstIndex(of: ":", in: item) else {
                throw scanner.error(at: item.upperBound, "expected ':' after the attribute name")
            }
            let nameRange = scanner.trim(item.lowerBound..<colon)
            guard !nameRange.isEmpty else { throw scanner.error(at: item.lowerBound, "expected an attribute name") }
            let valueRange = scanner.trim((colon + 1)..<item.upperBound)
            guard let first = valueRange.first.map({ scanner.characters[$0] }) else {
                throw scanner.error(at: valueRange.lowerBound, "expected a value")
            }
            if let extra = scanner.firstIndex(of: ":", in: valueRange) {
                throw scanner.error(at: extra, "expected only one ':' in an attribute")
            }
            let value: AttributeValue
            switch first {
            case "[":
                value = .ranges(RangeAlgebra.coalesce(try scanner.parseRanges(valueRange)))
            case "{":
                throw scanner.error(at: valueRange.lowerBound, "sets are not supported in attributes")
            default:
                if let number = scanner.number(valueRange) {
                    value = .scalar(number)
                } else {
                    value = .text(scanner.string(valueRange))
                }
            }
            out.append(Attribute(name: scanner.string(nameRange), value: value))
        }
        return out
    }
}
