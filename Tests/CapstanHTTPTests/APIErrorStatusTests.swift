import CapstanCore
import CapstanHTTP
import Hummingbird
import Testing

@Suite("APIError statuses")
struct APIErrorStatusTests {
    static let codes: [CapstanError.Code] = [
        .invalidArgument, .notFound, .alreadyExists, .failedPrecondition, .conflict, .unavailable, .timeout,
        .permissionDenied, .unauthenticated, .unsupported, .internal,
    ]

    @Test("A code answered by a server is the code its client reads back, where the status is that code's alone")
    func statusRoundTrip() {
        // Two codes share a status with another: their clients read the other code.
        let shared: [CapstanError.Code: CapstanError.Code] = [.failedPrecondition: .invalidArgument, .alreadyExists: .conflict]
        for code in Self.codes {
            let status = Int(APIError.status(for: code).code)
            #expect(CapstanError.Code(httpStatus: status) == (shared[code] ?? code), "\(code) → \(status)")
        }
    }

    @Test("Statuses outside the table: other 4xx are a failed precondition, other 5xx internal")
    func otherStatuses() {
        #expect(CapstanError.Code(httpStatus: 413) == .failedPrecondition)
        #expect(CapstanError.Code(httpStatus: 429) == .failedPrecondition)
        #expect(CapstanError.Code(httpStatus: 502) == .internal)
    }
}
