import CapstanAPI
import HTTPTypes
import Hummingbird
import NIOCore

/// Server-sent events (`text/event-stream`) for the dashboards: each event queued on a ``StreamSubscriber`` goes to
/// the browser as one `data:` line holding its JSON, which `EventSource` hands to the page. The queue's byte bound
/// applies as for RecordIO streams: a browser that stops reading is cut off (and `EventSource` reconnects).
public enum ServerSentEvents {
    /// How long the browser waits before reconnecting, in milliseconds.
    public static let retryMilliseconds = 2000

    /// A streaming response writing each event of `subscriber`; `onClose` runs once when the stream ends.
    public static func response<Event: Encodable & Sendable>(
        subscriber: StreamSubscriber<Event>, onClose: @escaping @Sendable () async -> Void
    ) -> Response {
        if let channel = CurrentConnection.channel {
            subscriber.onOverflow { channel.close(promise: nil) }
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: .init { writer in
                var closed = false
                do {
                    try await writer.write(ByteBuffer(string: "retry: \(retryMilliseconds)\n: connected\n\n"))
                    while let record = await subscriber.next() {
                        try await writer.write(event(fromRecord: record))
                    }
                    closed = true
                    await onClose()
                    try await writer.finish(nil)
                } catch {
                    subscriber.finish()
                    if !closed { await onClose() }
                    throw error
                }
            })
    }

    /// A RecordIO record (`<length>\n<json>`) as one SSE event (`data: <json>\n\n`). The JSON is compact, so it holds
    /// no raw line break that would split the `data:` field.
    static func event(fromRecord record: ByteBuffer) -> ByteBuffer {
        var json = record
        if let newline = json.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            json.moveReaderIndex(to: newline + 1)
        }
        var out = ByteBuffer(string: "data: ")
        out.writeImmutableBuffer(json)
        out.writeString("\n\n")
        return out
    }
}
