import CapstanCore
import Crypto
import Foundation

/// The token an agent gives each executor it starts (`MESOS_EXECUTOR_AUTHENTICATION_TOKEN`, as Mesos does), and
/// which the executor sends back as `Authorization: Bearer <token>` on the executor API when the agent runs with
/// `--authenticate-http-executors`. It is an HMAC-SHA256 of the framework and executor IDs under a key that only
/// the agent holds, so it is valid for that executor alone.
public enum ExecutorToken {
    public static let environmentVariable = "MESOS_EXECUTOR_AUTHENTICATION_TOKEN"

    public static func make(key: [UInt8], frameworkID: String, executorID: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("capstan-executor-v1\n\(frameworkID)\n\(executorID)".utf8), using: SymmetricKey(data: key))
        return BearerToken.base64URL(Data(mac))
    }

    /// Checks an `Authorization` header for the executor; throws `unauthenticated` (401) otherwise.
    public static func verify(authorization: String?, key: [UInt8], frameworkID: String, executorID: String) throws(CapstanError) {
        guard let authorization, authorization.hasPrefix("Bearer ") else {
            throw CapstanError(.unauthenticated, "the executor API needs 'Authorization: Bearer $\(environmentVariable)'")
        }
        let given = Array(authorization.dropFirst("Bearer ".count).utf8)
        let expected = Array(make(key: key, frameworkID: frameworkID, executorID: executorID).utf8)
        guard constantTimeEquals(given, expected) else {
            throw CapstanError(.unauthenticated, "the token is not executor \(executorID)'s of framework \(frameworkID)")
        }
    }
}
