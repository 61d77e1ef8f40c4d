import CapstanAPI
import Foundation
import Hummingbird

/// Builds chunked RecordIO responses (`<length>\n<json>`) from an event stream, as the Mesos SUBSCRIBE calls answer.
public enum RecordIOStream {
    /// A streaming response that writes each event as one RecordIO record, flushed as its own chunk.
    /// The response ends when `events` finishes; `onClose` runs once the stream ends for any reason
    /// (the client went away, or the producer finished it).
    public static func response<Event: Encodable & Sendable>(
        events: AsyncStream<Event>,
        headers: HTTPFields = [:],
        onClose: @escaping @Sendable () async -> Void
    ) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(
            status: .ok, headers: fields,
            body: .init { writer in
                do {
                    for await event in events {
                        let data = try MesosJSON.encode(event)
                        try await writer.write(ByteBuffer(bytes: RecordIOEncoder.encode(data)))
                    }
                    await onClose()
                    try await writer.finish(nil)
                } catch {
                    await onClose()
                    throw error
                }
            })
    }
}
