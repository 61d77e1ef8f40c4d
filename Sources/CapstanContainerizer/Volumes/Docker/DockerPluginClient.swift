import CapstanCore
import Foundation
import Logging

/// Calls one Docker plugin: HTTP POSTs of JSON to `/<Method>` with Docker's retry rule (``DockerPluginRetry``:
/// retried only while the plugin cannot be reached) and its error rule (a non-empty `Err` in the answer, with any
/// status, is a ``DockerVolumePluginError`` carrying the text verbatim).
public struct DockerPluginClient: Sendable {
    public let name: DockerPluginName
    public let address: DockerPluginAddress
    let transport: DockerPluginTransport
    let retry: DockerPluginRetry
    let logger: Logger

    init(name: DockerPluginName, address: DockerPluginAddress, transport: DockerPluginTransport, retry: DockerPluginRetry, logger: Logger) {
        self.name = name
        self.address = address
        self.transport = transport
        self.retry = retry
        self.logger = logger
    }

    /// The answer of a call the plugin may not implement: nil when it answered 404.
    func callOptional<Answer: Decodable>(
        _ method: String, _ request: some Encodable, volume: String? = nil, as answer: Answer.Type
    ) async throws -> Answer? {
        try await call(method, request, volume: volume, optional: true, as: answer)
    }

    /// Calls `method` (`VolumeDriver.Mount`) with `request` as its JSON body and decodes the answer.
    func call<Answer: Decodable>(_ method: String, _ request: some Encodable, volume: String? = nil, as answer: Answer.Type) async throws
        -> Answer
    {
        guard let decoded = try await call(method, request, volume: volume, optional: false, as: answer) else {
            throw CapstanError(.internal, "Docker plugin '\(name)' gave no answer to \(method)")
        }
        return decoded
    }

    private func call<Answer: Decodable>(
        _ method: String, _ request: some Encodable, volume: String?, optional: Bool, as answer: Answer.Type
    ) async throws -> Answer? {
        let body: Data
        do { body = try JSONEncoder().encode(request) } catch {
            throw CapstanError(.internal, "cannot encode the \(method) request for Docker plugin '\(name)'", cause: error)
        }
        let response = try await postRetrying(body, method: method, volume: volume)
        let what = "Docker plugin '\(name)' at \(address) answered \(method)\(volume.map { " of volume '\($0)'" } ?? "")"
        if let err = Self.err(in: response.body), !err.isEmpty {
            throw DockerVolumePluginError(plugin: name, call: method, volume: volume, err: err)
        }
        if optional && response.status == 404 { return nil }
        guard (200..<300).contains(response.status) else {
            throw CapstanError(
                .failedPrecondition,
                "\(what) with HTTP \(response.status): \(IdentifierRule.printable(String(decoding: response.body.prefix(200), as: UTF8.self)))"
            )
        }
        do { return try JSONDecoder().decode(Answer.self, from: response.body.isEmpty ? Data("{}".utf8) : response.body) } catch {
            throw CapstanError(.failedPrecondition, "\(what) with JSON Capstan cannot read", cause: error)
        }
    }

    /// Posts until the plugin is reached or the retry window is spent.
    private func postRetrying(_ body: Data, method: String, volume: String?) async throws -> DockerPluginTransport.Response {
        let start = ContinuousClock.now
        var attempt = 0
        while true {
            do {
                return try await transport.post(body, to: "/" + method, at: address)
            } catch let error as CapstanError where error.code == .unavailable {
                let delay = retry.delay(afterAttempt: attempt)
                let elapsed = ContinuousClock.now - start
                guard elapsed + delay <= retry.window else {
                    throw CapstanError(
                        .unavailable,
                        "Docker plugin '\(name)' at \(address) could not be reached for \(method)\(volume.map { " of volume '\($0)'" } ?? "") "
                            + "within \(retry.window) of retries (is the plugin running?)",
                        cause: error.cause.map { CauseText($0) } ?? CauseText(error.message))
                }
                if attempt == 0 {
                    logger.warning(
                        "Docker plugin '\(name)' at \(address) cannot be reached for \(method); retrying for up to \(retry.window)")
                }
                attempt += 1
                try await Task.sleep(for: delay)
            }
        }
    }

    /// The `Err` member of a JSON answer, if there is one.
    static func err(in body: Data) -> String? {
        struct ErrOnly: Decodable { var Err: String? }
        return (try? JSONDecoder().decode(ErrOnly.self, from: body))?.Err
    }
}

/// A cause kept as the text it was.
struct CauseText: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
