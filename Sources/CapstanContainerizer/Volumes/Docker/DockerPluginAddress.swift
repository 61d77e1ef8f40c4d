import CapstanCore
import Foundation

/// Where a Docker plugin listens: its unix socket, or a plain-HTTP address on the loopback interface. Anything else
/// (TLS, another host) is refused: a volume plugin is a local daemon, and a remote one would be handed mount requests
/// for this host by whoever controls the network.
public enum DockerPluginAddress: Sendable, Hashable, CustomStringConvertible {
    case unixSocket(path: String)
    case loopbackHTTP(host: String, port: Int)

    /// The longest unix socket path the kernel takes (`sun_path` is 108 bytes with its NUL).
    public static let maxSocketPathLength = 107

    public var description: String {
        switch self {
        case .unixSocket(let path): "unix://\(path)"
        case .loopbackHTTP(let host, let port): "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        }
    }

    /// A unix socket address; throws when the path is not absolute or too long for `sun_path`.
    public static func unix(_ path: String, source: String) throws(CapstanError) -> DockerPluginAddress {
        guard path.hasPrefix("/"), !path.utf8.contains(0) else {
            throw CapstanError(.invalidArgument, "\(source): the plugin socket '\(IdentifierRule.printable(path))' is not an absolute path")
        }
        guard path.utf8.count <= maxSocketPathLength else {
            throw CapstanError(
                .invalidArgument,
                "\(source): the plugin socket path \(path) is \(path.utf8.count) bytes long; a unix socket path may have at most \(maxSocketPathLength)"
            )
        }
        return .unixSocket(path: path)
    }

    /// Parses the address of a `.spec` file or of a `.json` file's `Addr`: `unix:///path/to.sock`, or
    /// `tcp://` / `http://` with a loopback host (`127.0.0.0/8`, `localhost`, `[::1]`) and a port. `source` names the
    /// file in errors.
    public static func parse(_ text: String, source: String) throws(CapstanError) -> DockerPluginAddress {
        let address = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let separator = address.range(of: "://") else {
            throw CapstanError(
                .invalidArgument,
                "\(source): '\(IdentifierRule.printable(address))' is not a plugin address (expected unix:///path or http://127.0.0.1:port)"
            )
        }
        let scheme = address[..<separator.lowerBound].lowercased()
        let rest = String(address[separator.upperBound...])
        switch scheme {
        case "unix":
            return try unix(rest, source: source)
        case "tcp", "http":
            return try loopback(rest, address: address, source: source)
        case "https":
            throw CapstanError(
                .unsupported,
                "\(source): plugin address \(address) uses TLS, which Capstan does not support for Docker plugins yet; use a unix socket")
        default:
            throw CapstanError(
                .unsupported,
                "\(source): plugin address \(IdentifierRule.printable(address)) has scheme '\(IdentifierRule.printable(scheme))'; only unix:// and loopback http:// or tcp:// are supported"
            )
        }
    }

    private static func loopback(_ rest: String, address: String, source: String) throws(CapstanError) -> DockerPluginAddress {
        var authority = Substring(rest)
        if authority.hasSuffix("/") { authority = authority.dropLast() }
        let host: Substring
        let portText: Substring
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw badAddress(address, source: source, "an unclosed '['") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            guard after.hasPrefix(":") else { throw badAddress(address, source: source, "no port") }
            portText = after.dropFirst()
        } else {
            guard let colon = authority.lastIndex(of: ":") else { throw badAddress(address, source: source, "no port") }
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        }
        guard let port = Int(portText), (1...65535).contains(port) else { throw badAddress(address, source: source, "no valid port") }
        guard isLoopback(String(host)) else {
            throw CapstanError(
                .permissionDenied,
                "\(source): plugin address \(address) is not on the loopback interface; only unix sockets and 127.0.0.0/8, localhost or [::1] are allowed"
            )
        }
        return .loopbackHTTP(host: String(host), port: port)
    }

    private static func badAddress(_ address: String, source: String, _ problem: String) -> CapstanError {
        CapstanError(
            .invalidArgument,
            "\(source): plugin address \(IdentifierRule.printable(address)) has \(problem) (expected http://127.0.0.1:port)")
    }

    /// `localhost`, `::1`, or a dotted-quad IPv4 address in 127.0.0.0/8.
    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets[0] == "127" else { return false }
        return octets.allSatisfy { octet in octet.count <= 3 && UInt8(octet) != nil }
    }

    /// The URL of `path` (`/Plugin.Activate`) at this address, as AsyncHTTPClient takes it (`http+unix://` with the
    /// socket path percent-encoded as the host).
    func url(for path: String) -> String {
        switch self {
        case .unixSocket(let socket):
            var host = ""
            for byte in socket.utf8 {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                    UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                    host.unicodeScalars.append(Unicode.Scalar(byte))
                default:
                    host += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xf, radix: 16, uppercase: true)
                }
            }
            return "http+unix://\(host)\(path)"
        case .loopbackHTTP:
            return description + path
        }
    }
}
