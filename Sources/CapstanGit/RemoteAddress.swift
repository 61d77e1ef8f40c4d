import Foundation

/// The parts of a remote URL that authentication and host-key checks need: the transport, the
/// user, the host and the port. Accepts what libgit2 accepts: `scheme://[user[:password]@]host[:port]/path`,
/// scp-like `[user@]host:path` (ssh), and local paths.
struct RemoteAddress: Hashable, Sendable {
    enum Transport: String, Sendable {
        case local, file, git, http, https, ssh
    }

    var transport: Transport
    var user: String?
    var host: String?
    var port: Int?

    /// The port the transport uses when the URL names none.
    var effectivePort: Int? {
        if let port { return port }
        switch transport {
        case .ssh: return 22
        case .https: return 443
        case .http: return 80
        case .git: return 9418
        case .local, .file: return nil
        }
    }

    init(transport: Transport, user: String? = nil, host: String? = nil, port: Int? = nil) {
        self.transport = transport
        self.user = user
        self.host = host
        self.port = port
    }

    init(parsing url: String) {
        if let schemeEnd = url.range(of: "://") {
            let scheme = url[..<schemeEnd.lowerBound].lowercased()
            let transport: Transport
            switch scheme {
            case "file": transport = .file
            case "git": transport = .git
            case "http": transport = .http
            case "https": transport = .https
            case "ssh", "ssh+git", "git+ssh": transport = .ssh
            default: transport = .local
            }
            self.init(transport: transport)
            guard transport != .file && transport != .local else { return }
            let rest = url[schemeEnd.upperBound...]
            var authority = Substring(rest.prefix { $0 != "/" })
            if let at = authority.lastIndex(of: "@") {
                let userInfo = authority[..<at]
                let name = String(userInfo.prefix { $0 != ":" })
                user = name.removingPercentEncoding ?? name
                authority = authority[authority.index(after: at)...]
            }
            if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
                host = String(authority[authority.index(after: authority.startIndex)..<close])
                let after = authority[authority.index(after: close)...]
                if after.hasPrefix(":") { port = Int(after.dropFirst()) }
            } else if let colon = authority.lastIndex(of: ":") {
                host = String(authority[..<colon])
                port = Int(authority[authority.index(after: colon)...])
            } else {
                host = String(authority)
            }
            return
        }
        // scp-like `[user@]host:path`: a colon before any slash, and not a Windows-style drive or a path.
        if !url.hasPrefix("/"), !url.hasPrefix("."), let colon = url.firstIndex(of: ":"),
            !url[..<colon].contains("/"), url.distance(from: url.startIndex, to: colon) > 1
        {
            let authority = url[..<colon]
            self.init(transport: .ssh)
            if let at = authority.lastIndex(of: "@") {
                user = String(authority[..<at])
                host = String(authority[authority.index(after: at)...])
            } else {
                host = String(authority)
            }
            return
        }
        self.init(transport: .local)
    }
}
