/// A `HOST:PORT` network endpoint, as the `--listen` and `--master` flags take it.
public struct HostPort: Hashable, Sendable, CustomStringConvertible, Codable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`, `[V6]:PORT`, or a URL such as `http://HOST:PORT/`; `defaultPort` fills a missing port.
    public static func parse(_ text: String, defaultPort: Int? = nil) throws(CapstanError) -> HostPort {
        var rest = Substring(text.trimmingWhitespace())
        for scheme in ["http://", "https://"] where rest.hasPrefix(scheme) { rest = rest.dropFirst(scheme.count) }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        guard !rest.isEmpty else { throw CapstanError(.invalidArgument, "'\(text)' is not HOST:PORT: the host is empty") }
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        if host.isEmpty { host = "0.0.0.0" }
        let port: Int
        if let portText {
            guard let value = Int(portText), (0...65535).contains(value) else {
                throw CapstanError(.invalidArgument, "'\(text)' is not HOST:PORT: '\(portText)' is not a port number (0-65535)")
            }
            port = value
        } else if let defaultPort {
            port = defaultPort
        } else {
            throw CapstanError(.invalidArgument, "'\(text)' is not HOST:PORT: the port is missing")
        }
        return HostPort(host: String(host), port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Whether the host is a loopback address (127.0.0.0/8, ::1 or localhost): only this machine can connect.
    public var isLoopback: Bool {
        let lower = host.lowercased()
        if lower == "localhost" || lower == "::1" || lower == "0:0:0:0:0:0:0:1" { return true }
        let octets = lower.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
    /// `http://HOST:PORT`
    public var url: String { "http://\(description)" }
    /// `https://HOST:PORT` when `tls`, else `http://HOST:PORT`.
    public func url(tls: Bool) -> String { (tls ? "https://" : "http://") + description }
}

extension String {
    func trimmingWhitespace() -> Substring {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return s
    }
}
