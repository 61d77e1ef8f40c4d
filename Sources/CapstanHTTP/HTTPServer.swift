import CapstanCore
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Builds the Hummingbird application for one listening endpoint and reports the bound port
/// (useful with port 0) through `onListening`.
public enum HTTPServer {
    public static func application(
        router: Router<BasicRequestContext>,
        listen: HostPort,
        serverName: String,
        services: [any Service] = [],
        logger: Logger,
        onListening: @escaping @Sendable (HostPort) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router,
            configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: serverName),
            services: services,
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? listen.port
                await onListening(HostPort(host: listen.host, port: port))
            },
            logger: logger)
    }
}
