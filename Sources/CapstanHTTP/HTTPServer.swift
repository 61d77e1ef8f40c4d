import CapstanCore
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import ServiceLifecycle

/// Builds the Hummingbird application for one listening endpoint and reports the bound address (with port 0, the
/// port the kernel picked) through `onListening` and one `Listening` log line (metadata `server`, `address`).
public enum HTTPServer {
    /// With `tls`, the server speaks only HTTPS (plain HTTP connections fail their handshake).
    public static func application(
        router: Router<BasicRequestContext>,
        listen: HostPort,
        serverName: String,
        tls: ServerTLS? = nil,
        limits: ConnectionLimits = ConnectionLimits(),
        services: [any Service] = [],
        logger: Logger,
        onListening: @escaping @Sendable (HostPort) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let counter = PeerConnectionCounter(limit: limits.maxConnectionsPerPeer)
        // TLS wraps the limited channel: the peer cap and the header timeout apply before and during the handshake.
        let base = HTTPServerBuilder { responder in
            LimitedHTTP1Channel(responder: responder, limits: limits, counter: counter, logger: logger)
        }
        let server = try tls.map { try HTTPServerBuilder.tls(base, tlsConfiguration: try $0.configuration()) } ?? base
        return Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: serverName),
            services: services,
            onServerRunning: { channel in
                let bound = HostPort(host: listen.host, port: channel.localAddress?.port ?? listen.port)
                logger.notice("Listening", metadata: ["server": "\(serverName)", "address": "\(bound)"])
                await onListening(bound)
            },
            logger: logger)
    }
}
