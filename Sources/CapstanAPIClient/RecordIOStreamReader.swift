import AsyncHTTPClient
import CapstanAPI
import CapstanCore
import Foundation
import NIOCore
import NIOHTTP1

/// Opens a streaming POST (a SUBSCRIBE call) and yields its RecordIO records as they arrive.
public enum RecordIOStreamReader {
    /// An open stream: the response headers and the records of the body.
    public struct Opened: Sendable {
        public let headers: [(String, String)]
        public let records: AsyncThrowingStream<Data, any Error>

        /// The first value of a response header.
        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    /// Returns the records of the response body, after checking for 200.
    public static func open(
        url: String, body: Data, headers: [(String, String)] = [], client: HTTPClient = .shared
    ) async throws -> Opened {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, deadline: .distantFuture)
        guard response.status == .ok else {
            let text = (try? await response.body.collect(upTo: 1 << 20)).map { String(buffer: $0) } ?? ""
            throw CapstanError(.init(httpStatus: Int(response.status.code)), "POST \(url) answered \(response.status.code): \(text)")
        }
        let (records, continuation) = AsyncThrowingStream.makeStream(of: Data.self, bufferingPolicy: .unbounded)
        let reader = Task {
            var decoder = RecordIODecoder()
            do {
                for try await chunk in response.body {
                    decoder.append(chunk.readableBytesView)
                    while let record = try decoder.next() { continuation.yield(record) }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in reader.cancel() }
        return Opened(headers: response.headers.map { ($0.name, $0.value) }, records: records)
    }
}
