import CapstanAPI
import Foundation
import Hummingbird
import Prometheus

/// What `/version` reports: the Mesos API release Capstan implements (clients parse it), plus Capstan's own version.
public struct VersionInfo: Sendable, Codable, Equatable {
    public var version: String
    public var buildDate: String
    public var buildTime: Double
    public var buildUser: String
    public var gitSHA: String?
    public var capstanVersion: String

    enum CodingKeys: String, CodingKey {
        case version, buildDate = "build_date", buildTime = "build_time", buildUser = "build_user"
        case gitSHA = "git_sha", capstanVersion = "capstan_version"
    }

    /// The Mesos API release whose v1 wire format Capstan speaks.
    public static let mesosAPIVersion = "1.0.0"
    /// Capstan's own release.
    public static let capstanRelease = "0.1.0"

    public static let current = VersionInfo(
        version: mesosAPIVersion, buildDate: "2026-11-25 00:00:00", buildTime: 1_795_564_800,
        buildUser: "capstan", gitSHA: nil, capstanVersion: capstanRelease)
}

/// Adds `/health`, `/version` and `/metrics` (Prometheus text) to a router.
public enum ServiceEndpoints {
    public static func register<Context: RequestContext>(
        on router: Router<Context>, metrics: PrometheusCollectorRegistry, refreshMetrics: @escaping @Sendable () async -> Void
    ) {
        router.get("health") { _, _ in Response(status: .ok) }
        router.get("version") { _, _ in try Response.mesosJSON(VersionInfo.current) }
        router.get("metrics") { _, _ in
            await refreshMetrics()
            var buffer: [UInt8] = []
            metrics.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }
}
