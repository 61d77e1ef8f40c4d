import CapstanAuth
import CapstanCore
import HTTPTypes
import Hummingbird

/// Requires HTTP credentials (``HTTPAuthenticator``) on every path except the open prefixes (health probes, and
/// the APIs that authenticate on their own: the internal master/agent calls are signed, the scheduler API follows
/// `--authenticate-frameworks`). A refused request is a 401 and reaches no handler.
public struct AuthenticationMiddleware<Context: RequestContext>: RouterMiddleware {
    let authenticator: HTTPAuthenticator
    let openPrefixes: [String]

    public init(authenticator: HTTPAuthenticator, openPrefixes: [String]) {
        self.authenticator = authenticator
        self.openPrefixes = openPrefixes
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        if !openPrefixes.contains(where: { path == $0 || path.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }) {
            _ = try await answering { try authenticator.principal(authorization: request.headers[.authorization]) }
        }
        return try await next(request, context)
    }
}
