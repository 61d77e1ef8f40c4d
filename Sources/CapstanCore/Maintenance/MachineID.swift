/// A machine as a maintenance schedule names it: a hostname, an IP address, or both (Mesos' `MachineID`).
///
/// Hostnames compare without regard to case, as DNS names do. An agent runs on a machine when the agent's hostname
/// and IP match every part the machine names (both when both are given).
public struct MachineID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let hostname: String?
    public let ip: String?

    /// Empty strings count as absent (as an unset protobuf field reads).
    public init(hostname: String?, ip: String?) {
        self.hostname = hostname.flatMap { $0.isEmpty ? nil : $0 }
        self.ip = ip.flatMap { $0.isEmpty ? nil : $0 }
    }

    private var key: String { (hostname?.lowercased() ?? "") + "\u{0}" + (ip ?? "") }

    public static func == (lhs: MachineID, rhs: MachineID) -> Bool { lhs.key == rhs.key }
    public func hash(into hasher: inout Hasher) { hasher.combine(key) }
    public static func < (lhs: MachineID, rhs: MachineID) -> Bool { lhs.key < rhs.key }

    /// Whether an agent with this hostname and IP runs on this machine.
    public func matches(hostname agentHostname: String, ip agentIP: String) -> Bool {
        guard hostname != nil || ip != nil else { return false }
        if let hostname, hostname.lowercased() != agentHostname.lowercased() { return false }
        if let ip, ip != agentIP { return false }
        return true
    }

    /// `hostname (ip)`, `hostname` or `ip`, for messages.
    public var description: String {
        switch (hostname, ip) {
        case let (host?, ip?): "'\(host)' (\(ip))"
        case let (host?, nil): "'\(host)'"
        case let (nil, ip?): "'\(ip)'"
        case (nil, nil): "''"
        }
    }

    /// Checks that the machine names a hostname or an IP, and that an IP parses.
    /// - Throws: `invalidArgument` naming `field`.
    public func validate(field: String) throws(CapstanError) {
        guard hostname != nil || ip != nil else {
            throw CapstanError(.invalidArgument, "\(field): a machine needs a 'hostname', an 'ip' or both; both are empty")
        }
        if let ip, !Self.isIPAddress(ip) {
            throw CapstanError(.invalidArgument, "\(field).ip: '\(ip)' is not an IPv4 or IPv6 address")
        }
    }

    /// A dotted-quad IPv4 address or a colon-separated IPv6 address (hex groups, optionally with an IPv4 tail).
    static func isIPAddress(_ text: String) -> Bool {
        if isIPv4(text) { return true }
        guard text.contains(":"), text.count <= 45 else { return false }
        var groups = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if let last = groups.last, last.contains(".") {
            guard isIPv4(last) else { return false }
            groups.removeLast()
            groups += ["0", "0"]
        }
        let characters = Array(text)
        let doubleColons = characters.indices.dropFirst().filter { characters[$0] == ":" && characters[$0 - 1] == ":" }.count
        guard doubleColons <= 1 else { return false }
        guard doubleColons == 1 ? groups.count <= 9 : groups.count == 8 else { return false }
        return groups.allSatisfy { group in group.count <= 4 && group.allSatisfy(\.isHexDigit) }
    }

    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber) && Int(part)! <= 255
        }
    }
}
