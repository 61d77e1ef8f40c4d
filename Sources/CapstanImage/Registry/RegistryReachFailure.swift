import CapstanCore
import Foundation

/// Why a registry could not be reached, as one sentence that says what to do, instead of the TLS or socket library's
/// own text.
enum RegistryReachFailure {
    /// The error for a request to `url` on registry `host` that failed before any answer; `plainHTTP` is whether it
    /// went over plain HTTP (`--insecure-registry`).
    static func error(host: String, url: String, plainHTTP: Bool, underlying: any Error) -> CapstanError {
        let text = String(describing: underlying)
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("HTTP_REQUEST") {
            // The TLS handshake read something that is not TLS: an HTTP answer.
            return CapstanError(
                .unavailable,
                "registry \(host) answers plain HTTP, not HTTPS (asked for \(url)); pass --insecure-registry \(host) to pull from it over plain HTTP")
        }
        if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("certificate") && text.contains("verif") {
            return CapstanError(
                .unavailable,
                "registry \(host)'s TLS certificate is not trusted (asked for \(url)); pass --registry-ca FILE with the CA that signed it")
        }
        if let reason = connectionReason(text) {
            return CapstanError(.unavailable, "cannot reach registry \(host) at \(url): \(reason)")
        }
        if !plainHTTP && (text.contains("handshake") || text.contains("SSL") || text.contains("TLS")) {
            return CapstanError(
                .unavailable,
                "the TLS handshake with registry \(host) failed (asked for \(url)); check the address, or pass --insecure-registry \(host) if it serves plain HTTP")
        }
        return CapstanError(.unavailable, "cannot reach registry \(host) at \(url)", cause: underlying)
    }

    /// The socket-level reason in words, from what the connection error says.
    static func connectionReason(_ text: String) -> String? {
        let lowered = text.lowercased()
        if lowered.contains("connection refused") || lowered.contains("connectionrefused") || text.contains("errno: 111") {
            return "connection refused (nothing listens there)"
        }
        if lowered.contains("connecttimeout") || lowered.contains("connect timeout") || lowered.contains("timed out") || text.contains("errno: 110") {
            return "the connection timed out"
        }
        if lowered.contains("no route to host") || text.contains("errno: 113") { return "no route to host" }
        if lowered.contains("network is unreachable") || text.contains("errno: 101") { return "the network is unreachable" }
        if lowered.contains("name or service not known") || lowered.contains("no address associated") || lowered.contains("lookup") {
            return "the host name does not resolve"
        }
        if lowered.contains("connection reset") || text.contains("errno: 104") { return "the connection was reset" }
        return nil
    }
}
