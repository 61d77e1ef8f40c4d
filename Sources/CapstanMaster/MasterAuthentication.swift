import CapstanAuth
import CapstanCore

/// Who may talk to a master, and how they prove it.
public struct MasterAuthentication: Sendable {
    /// Agents' principals and secrets (`--agent-credentials`): every internal call from an agent is signed with one
    /// of them, and the master signs its calls to an agent with that agent's own. nil means agents are not
    /// authenticated, which the CLI allows only with `--insecure`.
    public var agentCredentials: CredentialSet?
    /// Framework and operator credentials (`--credentials`, `--jwt-secret-file`).
    public var http: HTTPAuthenticator?
    /// `--authenticate-frameworks`: the scheduler API needs credentials, and a framework ID can only be resumed by
    /// the principal that registered it.
    public var authenticateFrameworks: Bool
    /// `--authenticate-http`: the operator API, `/state`, `/metrics` and the other read endpoints need credentials.
    public var authenticateHTTP: Bool

    public init(
        agentCredentials: CredentialSet? = nil, http: HTTPAuthenticator? = nil, authenticateFrameworks: Bool = false,
        authenticateHTTP: Bool = false
    ) {
        self.agentCredentials = agentCredentials
        self.http = http
        self.authenticateFrameworks = authenticateFrameworks
        self.authenticateHTTP = authenticateHTTP
    }

    /// The principal of a framework or operator request: nil when `required` is false and no credentials were
    /// sent; otherwise the authenticated principal, or `unauthenticated` (401).
    func principal(authorization: String?, required: Bool) throws(CapstanError) -> String? {
        guard let http else {
            if required { throw CapstanError(.unauthenticated, "authentication is required but no --credentials are configured") }
            return nil
        }
        if !required && (authorization ?? "").isEmpty { return nil }
        return try http.principal(authorization: authorization)
    }
}
