import CapstanCore
import CapstanLinux
import Foundation

/// The agent's own network, `capstan`, so that networked tasks run with no configuration (as Nomad's `bridge` mode): a
/// bridge with the host as gateway and masquerading, host-local addresses from the operator's subnet with the leases
/// on tmpfs (a reboot frees them all), and portmap for port mappings.
public struct BuiltInNetwork: Sendable, Hashable {
    public static let name = NetworkSpec.builtInCNINetwork

    public var subnet: IPv4Subnet
    public var bridge: String
    /// host-local's `dataDir`: on tmpfs, one per bridge (the agent that has the bridge owns its leases).
    public var leaseDirectory: String

    /// - Throws: `invalidArgument` naming the flag, for a bridge name Linux would refuse.
    public init(subnet: IPv4Subnet, bridge: String = "capstan0", leaseDirectory: String? = nil) throws(CapstanError) {
        guard (1...15).contains(bridge.utf8.count), bridge.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw CapstanError(.invalidArgument, "--default-network-bridge '\(bridge)' must be 1-15 letters, digits, '-' or '_'")
        }
        self.subnet = subnet
        self.bridge = bridge
        self.leaseDirectory = leaseDirectory ?? "/run/capstan/cni/\(bridge)/leases"
    }

    /// The conflist.
    public var document: JSONValue {
        .object([
            "cniVersion": .string("1.0.0"),
            "name": .string(Self.name),
            "plugins": .array([
                .object([
                    "type": .string("bridge"), "bridge": .string(bridge), "isGateway": .bool(true), "ipMasq": .bool(true),
                    "hairpinMode": .bool(true),
                    "ipam": .object([
                        "type": .string("host-local"), "dataDir": .string(leaseDirectory),
                        "ranges": .array([.array([.object(["subnet": .string(subnet.description)])])]),
                        "routes": .array([.object(["dst": .string("0.0.0.0/0")])]),
                    ]),
                ]),
                .object(["type": .string("portmap"), "capabilities": .object(["portMappings": .bool(true)]), "snat": .bool(true)]),
            ]),
        ])
    }

    /// Writes the conflist as `capstan.conflist` into `directory` (created), atomically.
    public func write(into directory: String) throws(CapstanError) {
        try CNIAttachmentJournal.makeDirectory(directory)
        try AtomicFile.write(document.encoded(), to: directory + "/\(Self.name).conflist")
    }
}

/// An IPv4 network in CIDR notation, such as `10.99.0.0/16`.
public struct IPv4Subnet: Sendable, Hashable, CustomStringConvertible {
    public var address: [UInt8]
    public var prefixLength: Int

    /// - Throws: `invalidArgument` naming `flag` and what is wrong.
    public init(_ text: String, flag: String) throws(CapstanError) {
        let parts = text.split(separator: "/")
        let octets = parts.first.map { $0.split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt8($0) } } ?? []
        guard parts.count == 2, octets.count == 4, let length = Int(parts[1]), (8...30).contains(length) else {
            throw CapstanError(.invalidArgument, "\(flag) '\(text)' is not an IPv4 subnet such as 10.99.0.0/16 (prefix length 8 to 30)")
        }
        let value = octets.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << UInt32(32 - length)
        guard value & ~mask == 0 else {
            throw CapstanError(.invalidArgument, "\(flag) '\(text)' has host bits set; the network is \(Self.text(value & mask))/\(length)")
        }
        address = octets
        prefixLength = length
    }

    public var description: String { address.map(String.init).joined(separator: ".") + "/\(prefixLength)" }

    private static func text(_ value: UInt32) -> String {
        [24, 16, 8, 0].map { String((value >> UInt32($0)) & 0xff) }.joined(separator: ".")
    }
}
