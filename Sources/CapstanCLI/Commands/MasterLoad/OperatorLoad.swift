import AsyncHTTPClient
import CapstanAPI
import CapstanCore
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// An open-loop operator client: read calls POSTed to a master's `/api/v1` at a fixed rate. Request `i` is due at
/// `start + i / rate` whatever happened to the ones before, and its latency counts from that moment, so a master
/// that falls behind shows as latency (queueing included), not as a lower rate.
struct OperatorLoad: Sendable {
    let url: String
    let client: HTTPClient
    let rate: Int
    let duration: Duration
    /// Requests outstanding at most; one due while this many are is not sent and counts as an error.
    let maxInFlight: Int
    /// Per request, from when it is sent.
    let timeout: Duration

    /// The calls, in the proportions an operator's tools and dashboards send them (one cycle of 20).
    static let mix: [OperatorCall.Kind] =
        Array(repeating: .getTasks, count: 4) + Array(repeating: .getFrameworks, count: 3) + Array(repeating: .getAgents, count: 3)
        + Array(repeating: .getHealth, count: 3) + Array(repeating: .getState, count: 2) + Array(repeating: .getMetrics, count: 2)
        + [.getMaster, .getVersion, .getRoles]

    /// Kind of error → count, and one message per kind.
    static let notSent = "not_sent_max_in_flight"

    /// Runs the load for `duration` and returns what it measured once every request sent has finished.
    func run() async throws -> OperatorLoadResult {
        var bodies: [OperatorCall.Kind: Data] = [:]
        for kind in Self.mix { bodies[kind] = try MesosJSON.encode(OperatorCall(type: kind)) }
        let total = Int((Double(rate) * duration.seconds).rounded())
        let interval = Duration.seconds(1) / rate
        let recorder = OperatorLoadRecorder(capacity: total)
        let clock = ContinuousClock()
        let start = clock.now + .milliseconds(20)
        var lastDue = start
        await withDiscardingTaskGroup { group in
            for index in 0..<total {
                let due = start + interval * index
                lastDue = due
                if clock.now < due { try? await clock.sleep(until: due, tolerance: .microseconds(100)) }
                guard recorder.reserve(limit: maxInFlight) else { continue }
                let kind = Self.mix[index % Self.mix.count]
                let body = bodies[kind]!
                group.addTask { await self.send(kind, body: body, due: due, recorder: recorder) }
            }
        }
        let sendSeconds = (lastDue - start).seconds + 1 / Double(rate)
        return recorder.result(due: total, sendSeconds: sendSeconds, elapsed: (clock.now - start).seconds)
    }

    private func send(_ kind: OperatorCall.Kind, body: Data, due: ContinuousClock.Instant, recorder: OperatorLoadRecorder) async {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: body))
        let outcome: OperatorLoadRecorder.Outcome
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(Int64(timeout.seconds * 1e9)))
            let bytes = try await response.body.collect(upTo: 256 << 20)
            if !(200..<300).contains(response.status.code) {
                outcome = .failed("http_\(response.status.code)", String(buffer: bytes).prefix(300).description)
            } else if bytes.readableBytes == 0 {
                outcome = .failed("empty_body", "\(kind.rawValue) answered \(response.status.code) with no body")
            } else {
                outcome = .succeeded
            }
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            outcome = .failed("timeout", "\(kind.rawValue): no answer within \(timeout)")
        } catch {
            outcome = .failed("connection", "\(kind.rawValue): \(error)")
        }
        recorder.finish(kind, due: due, outcome: outcome)
    }
}

/// What the operator client measured.
struct OperatorLoadResult: Sendable {
    /// Requests due over the run, and those actually sent (the rest hit the in-flight cap).
    var due: Int
    var sent: Int
    var succeeded: Int
    var errors: [String: Int]
    var errorSamples: [String: String]
    /// Seconds from due to answered, of every request that was answered (a non-2xx answer included).
    var latencies: [Double]
    var latenciesByCall: [String: [Double]]
    /// The most requests outstanding at once.
    var peakInFlight: Int
    /// Seconds over which the requests were due, and from the first one due until the last one finished.
    var sendSeconds: Double
    var elapsedSeconds: Double

    var errorCount: Int { errors.values.reduce(0, +) }
}

/// The operator client's tallies, shared by its request tasks.
final class OperatorLoadRecorder: Sendable {
    enum Outcome: Sendable {
        case succeeded
        case failed(String, String)
    }

    private struct State {
        var inFlight = 0
        var peakInFlight = 0
        var sent = 0
        var succeeded = 0
        var errors: [String: Int] = [:]
        var errorSamples: [String: String] = [:]
        var latencies: [Double] = []
        var latenciesByCall: [String: [Double]] = [:]
    }

    private let state: Mutex<State>

    init(capacity: Int) {
        var initial = State()
        initial.latencies.reserveCapacity(capacity)
        state = Mutex(initial)
    }

    /// Takes an in-flight slot; false (and one `not_sent` error) when `limit` are taken.
    func reserve(limit: Int) -> Bool {
        state.withLock { state in
            guard state.inFlight < limit else {
                state.errors[OperatorLoad.notSent, default: 0] += 1
                if state.errorSamples[OperatorLoad.notSent] == nil {
                    state.errorSamples[OperatorLoad.notSent] = "\(limit) requests were outstanding when the next one was due"
                }
                return false
            }
            state.inFlight += 1
            state.sent += 1
            state.peakInFlight = max(state.peakInFlight, state.inFlight)
            return true
        }
    }

    /// Records one request's end and frees its slot.
    func finish(_ kind: OperatorCall.Kind, due: ContinuousClock.Instant, outcome: Outcome) {
        let latency = (ContinuousClock.now - due).seconds
        state.withLock { state in
            state.inFlight -= 1
            switch outcome {
            case .succeeded:
                state.succeeded += 1
                state.latencies.append(latency)
                state.latenciesByCall[kind.rawValue, default: []].append(latency)
            case .failed(let errorKind, let message):
                state.errors[errorKind, default: 0] += 1
                if state.errorSamples[errorKind] == nil { state.errorSamples[errorKind] = message }
                // An HTTP answer is an answer: its latency counts; a timeout or a broken connection has none.
                if errorKind.hasPrefix("http_") || errorKind == "empty_body" { state.latencies.append(latency) }
            }
        }
    }

    func result(due: Int, sendSeconds: Double, elapsed: Double) -> OperatorLoadResult {
        state.withLock { state in
            OperatorLoadResult(
                due: due, sent: state.sent, succeeded: state.succeeded, errors: state.errors, errorSamples: state.errorSamples,
                latencies: state.latencies, latenciesByCall: state.latenciesByCall, peakInFlight: state.peakInFlight,
                sendSeconds: sendSeconds, elapsedSeconds: elapsed)
        }
    }
}
