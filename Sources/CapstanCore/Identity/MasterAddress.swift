/// Where a client finds the leading master, as every `--master` flag takes it:
///
/// - `HOST:PORT`: one master;
/// - `HOST:PORT,HOST:PORT,…`: masters sharing an etcd election; the leader is asked through any of them (`/redirect`);
/// - `etcd://HOST:PORT,HOST:PORT/PREFIX`: the etcd members the masters elect through, and their `--etcd-prefix`
///   (default `/capstan`); the leader is the address in `PREFIX/leader`, as Mesos' `zk://…/mesos` names ZooKeeper.
public enum MasterAddress: Sendable, Equatable, CustomStringConvertible {
    case masters([HostPort])
    case etcd(endpoints: [HostPort], prefix: String)

    /// The prefix masters use when `--etcd-prefix` is not given.
    public static let defaultEtcdPrefix = "/capstan"

    /// Parses a `--master` value; `defaultPort` fills a master address without one (never an etcd member's).
    public static func parse(_ text: String, defaultPort: Int? = nil) throws(CapstanError) -> MasterAddress {
        let trimmed = String(text.trimmingWhitespace())
        if trimmed.lowercased().hasPrefix("etcd://") {
            let rest = trimmed.dropFirst("etcd://".count)
            let slash = rest.firstIndex(of: "/")
            let hosts = slash.map { rest[..<$0] } ?? rest
            var prefix = slash.map { String(rest[$0...]) } ?? defaultEtcdPrefix
            while prefix.count > 1 && prefix.hasSuffix("/") { prefix.removeLast() }
            guard prefix != "/" else {
                throw CapstanError(.invalidArgument, "'\(text)': the etcd prefix is empty; give the masters' --etcd-prefix (e.g. etcd://127.0.0.1:2379/capstan)")
            }
            guard prefix.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "?" && $0 != "#" }) else {
                throw CapstanError(.invalidArgument, "'\(text)': the etcd prefix '\(prefix)' may hold only printable ASCII without spaces, '?' or '#'")
            }
            let endpoints = try list(hosts, whole: text, defaultPort: nil, what: "etcd member")
            return .etcd(endpoints: endpoints, prefix: prefix)
        }
        if let scheme = trimmed.firstRange(of: "://"), !["http", "https"].contains(trimmed[..<scheme.lowerBound].lowercased()) {
            throw CapstanError(
                .invalidArgument,
                "'\(text)' is not a master address: use HOST:PORT, several HOST:PORTs separated by commas, or etcd://HOST:PORT/PREFIX")
        }
        return .masters(try list(Substring(trimmed), whole: text, defaultPort: defaultPort, what: "master"))
    }

    private static func list(_ text: Substring, whole: String, defaultPort: Int?, what: String) throws(CapstanError) -> [HostPort] {
        var addresses: [HostPort] = []
        for (index, part) in text.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let item = part.trimmingWhitespace()
            guard !item.isEmpty else {
                throw CapstanError(.invalidArgument, "'\(whole)': \(what) \(index + 1) of the comma-separated list is empty")
            }
            do {
                addresses.append(try HostPort.parse(String(item), defaultPort: defaultPort))
            } catch {
                throw CapstanError(.invalidArgument, "'\(whole)': \(what) \(index + 1): \(error.message)")
            }
        }
        return addresses
    }

    /// The single master's address, when there is exactly one and no election to ask.
    public var single: HostPort? {
        if case .masters(let masters) = self, masters.count == 1 { return masters[0] }
        return nil
    }

    /// The first master named; nil for an etcd address, which names no master.
    public var first: HostPort? {
        if case .masters(let masters) = self { return masters.first }
        return nil
    }

    public var description: String {
        switch self {
        case .masters(let masters): return masters.map(\.description).joined(separator: ",")
        case .etcd(let endpoints, let prefix): return "etcd://" + endpoints.map(\.description).joined(separator: ",") + prefix
        }
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> Substring { String(self).trimmingWhitespace() }
}
