import Logging
import NIOCore
import Synchronization

/// Counts the open connections of each peer IP address across all of a server's event loops.
public final class PeerConnectionCounter: Sendable {
    /// The most connections one peer may hold; 0 means no cap.
    public let limit: Int
    private let counts = Mutex<[String: Int]>([:])

    public init(limit: Int) {
        self.limit = limit
    }

    /// Counts one more connection from `peer`, or returns false (counting nothing) when it already holds `limit`.
    func admit(_ peer: String) -> Bool {
        counts.withLock { counts in
            let current = counts[peer, default: 0]
            guard limit == 0 || current < limit else { return false }
            counts[peer] = current + 1
            return true
        }
    }

    /// One connection of `peer` closed.
    func release(_ peer: String) {
        counts.withLock { counts in
            guard let current = counts[peer] else { return }
            counts[peer] = current > 1 ? current - 1 : nil
        }
    }

    /// Open connections of `peer`.
    public func connections(of peer: String) -> Int {
        counts.withLock { $0[peer, default: 0] }
    }
}

/// The first handler of every accepted connection: counts it against its peer's cap when it becomes active and
/// closes it at once when the peer already holds the most connections allowed.
final class PeerLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let counter: PeerConnectionCounter
    private let logger: Logger
    private var decided = false
    private var refused = false
    private var admittedPeer: String?

    init(counter: PeerConnectionCounter, logger: Logger) {
        self.counter = counter
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { _ = admit(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if admit(context) { context.fireChannelActive() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release()
    }

    /// Decides once per connection; false when it was refused and closed.
    private func admit(_ context: ChannelHandlerContext) -> Bool {
        if decided { return !refused }
        decided = true
        guard counter.limit > 0, let peer = context.channel.remoteAddress?.ipAddress else { return true }
        if counter.admit(peer) {
            admittedPeer = peer
            return true
        }
        logger.debug(
            "Refusing connection: the peer holds the most connections allowed",
            metadata: ["peer": "\(peer)", "max_connections_per_peer": "\(counter.limit)"])
        refused = true
        context.close(promise: nil)
        return false
    }

    private func release() {
        guard let peer = admittedPeer else { return }
        admittedPeer = nil
        counter.release(peer)
    }
}
