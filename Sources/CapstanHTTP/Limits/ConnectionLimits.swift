/// What one client may hold of a server: how long it may take to send a request, how many connections one peer
/// address may keep open, and how much a stream subscriber that does not read may leave queued.
public struct ConnectionLimits: Sendable, Equatable {
    /// From a connection's first byte (or the first byte after an idle keep-alive pause) to a complete request head.
    public var headerTimeout: Duration
    /// From a request head to the end of its body.
    public var bodyTimeout: Duration
    /// How long a keep-alive connection may sit without a request before it is closed.
    public var idleTimeout: Duration
    /// Connections one peer IP address may hold at once; more are closed as soon as they are accepted. 0: no cap.
    public var maxConnectionsPerPeer: Int
    /// Encoded events one stream subscriber (scheduler, operator or executor SUBSCRIBE) may have waiting to be
    /// written; a subscriber that falls further behind is disconnected. One event larger than this is still sent.
    public var streamBufferBytes: Int

    public init(
        headerTimeout: Duration = .seconds(10), bodyTimeout: Duration = .seconds(30), idleTimeout: Duration = .seconds(60),
        maxConnectionsPerPeer: Int = 256, streamBufferBytes: Int = 4 << 20
    ) {
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.maxConnectionsPerPeer = maxConnectionsPerPeer
        self.streamBufferBytes = streamBufferBytes
    }
}
