import CapstanAPI
import Foundation
import Hummingbird
import NIOCore

/// Builds chunked RecordIO responses (`<length>\n<json>`) from an event stream, as the Mesos SUBSCRIBE calls answer.
public enum RecordIOStream {
    /// A streaming response that writes each queued record of `subscriber`, flushed as its own chunk.
    /// The response ends when the subscriber is finished; `onClose` runs once the stream ends for any reason
    /// (the client went away, the producer finished it, or the subscriber overflowed and its connection was closed).
    public static func response<Event: Encodable & Sendable>(
        subscriber: StreamSubscriber<Event>,
        headers: HTTPFields = [:],
        onClose: @escaping @Sendable () async -> Void
    ) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        if let channel = CurrentConnection.channel {
            subscriber.onOverflow { channel.close(promise: nil) }
        }
        return Response(
            status: .ok, headers: fields,
            body: .init { writer in
                var closed = false
                do {
                    while let record = await subscriber.next() {
                        try await writer.write(record)
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
}
