import HummingbirdCore
import Logging
import NIOCore

/// The connection whose request the current task answers; set for the length of each connection's handling so
/// that a stream response can close its connection when its subscriber falls too far behind.
public enum CurrentConnection {
    @TaskLocal public static var channel: (any Channel)?
}

/// HTTP/1.1 with the per-client limits of ``ConnectionLimits``: a peer over its connection cap is closed as soon as
/// it is accepted, and requests that arrive too slowly are cut off by ``RequestTimeoutHandler``.
struct LimitedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let http1: HTTP1Channel
    let counter: PeerConnectionCounter
    let logger: Logger

    init(
        responder: @escaping HTTPChannelHandler.Responder, limits: ConnectionLimits, counter: PeerConnectionCounter,
        logger: Logger
    ) {
        self.http1 = HTTP1Channel(
            responder: responder,
            configuration: .init(additionalChannelHandlers: [RequestTimeoutHandler(limits: limits, logger: logger)]))
        self.counter = counter
        self.logger = logger
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let counter = self.counter
        let limitLogger = self.logger
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(InboundBytesSignalHandler(), position: .first)
            try channel.pipeline.syncOperations.addHandler(
                PeerLimitHandler(counter: counter, logger: limitLogger), position: .first)
        }.flatMap {
            self.http1.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await CurrentConnection.$channel.withValue(value.channel) {
            await http1.handle(value: value, logger: logger)
        }
    }
}
