import ArgumentParser
import CapstanHTTP

/// Per-client bounds of the HTTP servers; shared by `capstan master`, `agent`, `reconcile` and `up` (where they
/// apply to each of its servers).
struct ConnectionLimitOptions: ParsableArguments {
    @Option(help: "Connections one client IP address may hold open on a server; more are closed at once (0: no cap).")
    var maxConnectionsPerPeer: Int = 256

    @Option(help: "Time a client has to send a complete request head, from its first byte or from connecting.")
    var requestHeaderTimeout: String = "10secs"

    @Option(help: "Time a client has to send a request's body after its head.")
    var requestBodyTimeout: String = "30secs"

    @Option(help: "Time a keep-alive connection may stay open without a request.")
    var idleConnectionTimeout: String = "60secs"

    @Option(help: "KiB of events a SUBSCRIBE stream may have waiting for a client that does not read before it is disconnected.")
    var streamBufferKib: Int = 4096

    func limits() throws -> ConnectionLimits {
        guard maxConnectionsPerPeer >= 0 else {
            throw ValidationError("--max-connections-per-peer must be 0 (no cap) or more, not \(maxConnectionsPerPeer)")
        }
        guard streamBufferKib > 0 else { throw ValidationError("--stream-buffer-kib must be at least 1, not \(streamBufferKib)") }
        return ConnectionLimits(
            headerTimeout: try FlagParsing.duration(requestHeaderTimeout, flag: "--request-header-timeout"),
            bodyTimeout: try FlagParsing.duration(requestBodyTimeout, flag: "--request-body-timeout"),
            idleTimeout: try FlagParsing.duration(idleConnectionTimeout, flag: "--idle-connection-timeout"),
            maxConnectionsPerPeer: maxConnectionsPerPeer, streamBufferBytes: streamBufferKib * 1024)
    }
}
