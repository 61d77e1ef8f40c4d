import Logging
import NIOCore
import NIOHTTPTypes

/// Sent up the pipeline by ``InboundBytesSignalHandler`` before raw request bytes are decoded, so that
/// ``RequestTimeoutHandler`` sees a request head start arriving before it is complete.
struct InboundBytesArrived {
    /// Whether these bytes hold the blank line (`CRLF CRLF`) that ends a request head: from then on the client has
    /// sent its head, and any wait until the decoder hands it on is the server's own, not the client's slowness.
    var headEnded: Bool
}

/// Sits before the HTTP decoder and signals every read of raw bytes (the decoder says nothing until a head is whole).
final class InboundBytesSignalHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    /// The CR and LF bytes since the last other byte (at most 4), kept across reads.
    private var lineBreaks: [UInt8] = []
    /// Whether a byte other than CR or LF came since the last head's end: blank lines alone are no head (a client
    /// sending only those must not stop the head's clock).
    private var headContent = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let headEnded = buffer.withUnsafeReadableBytes { bytes in
            var found = false
            for byte in bytes {
                guard byte == 13 || byte == 10 else {
                    lineBreaks.removeAll(keepingCapacity: true)
                    headContent = true
                    continue
                }
                lineBreaks.append(byte)
                if lineBreaks.count > 4 { lineBreaks.removeFirst() }
                if headContent, lineBreaks == [13, 10, 13, 10] {
                    found = true
                    headContent = false
                }
            }
            return found
        }
        context.fireUserInboundEventTriggered(InboundBytesArrived(headEnded: headEnded))
        context.fireChannelRead(data)
    }
}

/// Closes a connection that is too slow to send a request: no complete head within `headerTimeout` of its first
/// byte (or of the connection opening), a body not finished within `bodyTimeout` of its head, or no new request
/// within `idleTimeout` of the last response. While a response is being written (a SUBSCRIBE stream) no timer runs.
/// The head's clock stops when the blank line ending it arrives: how long the server then takes to decode it (a
/// loaded machine, a consumer still busy with the previous request) is not held against the client.
final class RequestTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    enum Phase: String {
        case head = "request head"
        case body = "request body"
        case idle = "next request on an idle connection"
    }

    private let limits: ConnectionLimits
    private let logger: Logger
    /// Requests whose head was read and whose response has not ended.
    private var requestsInProgress = 0
    /// Between a request's head and its end.
    private var readingRequest = false
    /// When bytes of a next request arrived while a response was still being written.
    private var nextHeadStarted: NIODeadline?
    /// Whether the blank line ending a head arrived since the last head was decoded.
    private var headBytesEnded = false
    private var phase: Phase?
    private var timer: Scheduled<Void>?
    /// Bumped whenever the timer is re-armed or cancelled, so a timer that fires late (already due when it was
    /// cancelled) does nothing.
    private var generation = 0
    private var started = false

    init(limits: ConnectionLimits, logger: Logger) {
        self.limits = limits
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancel()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancel()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let arrived = event as? InboundBytesArrived else { return context.fireUserInboundEventTriggered(event) }
        if readingRequest { return }
        if requestsInProgress > 0 {
            if nextHeadStarted == nil { nextHeadStarted = .now() }
        } else if phase == .idle {
            arm(.head, at: .now() + TimeAmount(limits.headerTimeout), context)
        }
        if arrived.headEnded {
            headBytesEnded = true
            if phase == .head { cancel() }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            requestsInProgress += 1
            readingRequest = true
            nextHeadStarted = nil
            headBytesEnded = false
            arm(.body, at: .now() + TimeAmount(limits.bodyTimeout), context)
        case .body:
            break
        case .end:
            readingRequest = false
            if requestsInProgress > 0 { cancel() } else { armIdleOrHead(context) }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            requestsInProgress = max(0, requestsInProgress - 1)
            if requestsInProgress == 0, !readingRequest { armIdleOrHead(context) }
        }
        context.write(data, promise: promise)
    }

    private func start(_ context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        arm(.head, at: .now() + TimeAmount(limits.headerTimeout), context)
    }

    /// After a response: wait for the next request, or for the rest of a head whose first bytes already came.
    private func armIdleOrHead(_ context: ChannelHandlerContext) {
        if headBytesEnded {
            // The next head is all here; the decoder hands it on when the server gets to it.
            nextHeadStarted = nil
            cancel()
        } else if let since = nextHeadStarted {
            nextHeadStarted = nil
            arm(.head, at: since + TimeAmount(limits.headerTimeout), context)
        } else {
            arm(.idle, at: .now() + TimeAmount(limits.idleTimeout), context)
        }
    }

    private func arm(_ phase: Phase, at deadline: NIODeadline, _ context: ChannelHandlerContext) {
        cancel()
        self.phase = phase
        let armed = generation
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            guard generation == armed else { return }
            timer = nil
            if phase != .idle {
                logger.debug(
                    "Closing a connection too slow to send its \(phase.rawValue)",
                    metadata: ["peer": "\(context.channel.remoteAddress?.description ?? "unknown")"])
            }
            context.close(promise: nil)
        }
    }

    private func cancel() {
        timer?.cancel()
        timer = nil
        phase = nil
        generation &+= 1
    }
}
