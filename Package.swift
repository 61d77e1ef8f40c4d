// swift-tools-version: 6.0
import PackageDescription

let settings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "capstan",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "capstan", targets: ["capstan"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.24.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.20.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.27.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    ],
    targets: [
        // Pure: resources, IDs, plans; no I/O (swift-crypto for the spec hash).
        .target(name: "CapstanCore", dependencies: [.product(name: "Crypto", package: "swift-crypto")], swiftSettings: settings),
        // Mesos v1 wire types (JSON) and RecordIO; Foundation only.
        .target(name: "CapstanAPI", dependencies: ["CapstanCore"], swiftSettings: settings),
        // Credentials files, HMAC-signed internal requests, HTTP Basic and bearer tokens (swift-crypto).
        .target(
            name: "CapstanAuth", dependencies: ["CapstanCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: settings),
        // HTTP clients of the v1 API (scheduler, agent-to-master, operator).
        .target(
            name: "CapstanAPIClient",
            dependencies: [
                "CapstanCore", "CapstanAPI", "CapstanAuth",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: settings),
        // Hummingbird glue shared by master and agent.
        .target(
            name: "CapstanHTTP",
            dependencies: [
                "CapstanAPI", "CapstanAuth",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: settings),
        // C shim for what Swift cannot call safely (fork/exec with setsid, chdir and fd set-up).
        .target(name: "CLinux", cSettings: [.define("_GNU_SOURCE")]),
        // The spec capstan-init reads (shared by the Linux launcher and the helper; no dependencies).
        .target(name: "CapstanInitSpec", swiftSettings: settings),
        // The container's monitor and PID 1: namespaces, rootfs, pivot_root, then exec (synchronous, forks).
        // Linked with a static Swift runtime: it starts for every container, and loading the shared runtime took ~2 ms.
        .executableTarget(
            name: "capstan-init", dependencies: ["CLinux", "CapstanInitSpec"], swiftSettings: settings,
            linkerSettings: [.unsafeFlags(["-static-stdlib"]), .linkedLibrary("_FoundationCollections"), .linkedLibrary("_FoundationCShims"), .linkedLibrary("swiftSynchronization")]),
        // The OS layer: system calls retried on EINTR, the one errno → error table, atomic durable writes, and the one
        // bounded pool for blocking work. (capstan-init stays on CLinux alone: a small static binary.)
        .target(
            name: "CapstanLinux",
            dependencies: ["CLinux", "CapstanCore", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: settings),
        // Launcher and isolator protocols; the plain-process launcher; the Linux launcher and cgroup isolators.
        .target(
            name: "CapstanContainerizer",
            dependencies: [
                "CapstanCore", "CLinux", "CapstanInitSpec", "CapstanLinux", "CapstanImage",
                .product(name: "Logging", package: "swift-log"),
                // CDI specs (JSON and YAML, both read through libyaml as the CDI reference library does).
                .product(name: "Yams", package: "Yams"),
                // Docker volume plugins: HTTP over the plugin's unix socket.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: settings),
        .target(
            name: "CapstanAgent",
            dependencies: [
                "CapstanCore", "CapstanAuth", "CapstanAPI", "CapstanAPIClient", "CapstanHTTP", "CapstanContainerizer", "CapstanImage", "CLinux", "CapstanLinux",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: settings),
        .target(
            name: "CapstanMaster",
            dependencies: [
                "CapstanCore", "CapstanAuth", "CapstanAPI", "CapstanAPIClient", "CapstanHTTP",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: settings),
        // App manifests: YAML (Yams) to the Core model, with file:line:column diagnostics; the JSON Schema.
        .target(
            name: "CapstanManifest",
            dependencies: ["CapstanCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: settings),
        // libgit2, found through pkg-config.
        .systemLibrary(name: "CLibGit2", pkgConfig: "libgit2", providers: [.apt(["libgit2-dev"])]),
        // The git source of the reconciler: bare cache, fetch, trees and blobs at a commit, ls-remote.
        .target(
            name: "CapstanGit", dependencies: ["CapstanCore", "CLibGit2", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: settings),
        // libarchive, found through pkg-config: the tar reader of layer unpacking.
        .systemLibrary(name: "CLibArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        // Images: references, content store, registry v2 puller, OCI layout and docker-archive import, safe layer unpack.
        .target(
            name: "CapstanImage",
            dependencies: [
                "CapstanCore", "CLibArchive", "CapstanLinux",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: settings),
        // The GitOps controller: desired state from git, the plan, apply as a framework, sync history, webhook.
        .target(
            name: "CapstanReconciler",
            dependencies: [
                "CapstanCore", "CapstanAuth", "CapstanAPI", "CapstanAPIClient", "CapstanHTTP", "CapstanManifest", "CapstanGit",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: settings),
        .target(
            name: "CapstanCLI",
            dependencies: [
                "CapstanManifest", "CapstanGit", "CapstanReconciler",
                "CapstanCore", "CapstanAPI", "CapstanAPIClient", "CapstanHTTP", "CapstanMaster", "CapstanAgent",
                "CapstanContainerizer", "CapstanImage", "CapstanAuth", "CapstanLinux",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                // `capstan bench master-load` sizes its own connection pools.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: settings),
        .executableTarget(name: "capstan", dependencies: ["CapstanCLI"], swiftSettings: settings),
        // The parser fuzzer: seeded random and mutated inputs for manifests, Mesos JSON, RecordIO and image layers
        // (scripts/fuzz.sh runs it bounded; Tests/Fuzz/corpus holds its seeds).
        .executableTarget(
            name: "capstan-fuzz",
            dependencies: [
                "CapstanCore", "CapstanAPI", "CapstanManifest", "CapstanImage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: settings),

        .target(
            name: "CapstanTestSupport",
            dependencies: [
                "CapstanCore", "CapstanAPI", "CapstanAPIClient", "CapstanAuth",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/CapstanTestSupport",
            swiftSettings: settings),
        .testTarget(name: "CapstanCoreTests", dependencies: ["CapstanCore"], swiftSettings: settings),
        .testTarget(name: "CapstanAuthTests", dependencies: ["CapstanAuth", "CapstanCore"], swiftSettings: settings),
        .testTarget(
            name: "CapstanManifestTests", dependencies: ["CapstanManifest", "CapstanCore", .product(name: "Yams", package: "Yams")], swiftSettings: settings),
        .testTarget(name: "CapstanGitTests", dependencies: ["CapstanGit", "CapstanCore", "CapstanTestSupport"], swiftSettings: settings),
        .testTarget(
            name: "CapstanReconcilerTests",
            dependencies: [
                "CapstanReconciler", "CapstanCore", "CapstanAPI", "CapstanManifest", "CapstanGit", "CapstanTestSupport", "CapstanAuth",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: settings),
        .testTarget(
            name: "CapstanHTTPTests",
            dependencies: [
                "CapstanHTTP", "CapstanCore", "CapstanAPI", "CapstanTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: settings),
        .testTarget(
            name: "CapstanAPITests", dependencies: ["CapstanAPI", "CapstanCore"],
            resources: [.copy("Golden")], swiftSettings: settings),
        .testTarget(
            name: "CapstanMasterTests",
            dependencies: [
                "CapstanMaster", "CapstanCore", "CapstanAPI", "CapstanAPIClient", "CapstanHTTP", "CapstanAuth", "CapstanTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: settings),
        .testTarget(
            name: "CapstanAgentTests",
            dependencies: [
                "CapstanAgent", "CapstanCore", "CapstanAPI", "CapstanHTTP", "CapstanContainerizer", "CapstanTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: settings),
        .testTarget(
            name: "CapstanImageTests",
            dependencies: ["CapstanImage", "CapstanCore", "CapstanLinux", "CapstanTestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: settings),
        .testTarget(
            // capstan-init is found next to the test bundle (`swift build` builds it); not a dependency, or its
            // static-stdlib link flags would apply to the test bundle.
            name: "CapstanContainerizerTests",
            dependencies: ["CapstanContainerizer", "CapstanCore", "CapstanInitSpec", "CapstanTestSupport"], swiftSettings: settings),
        .testTarget(
            name: "CapstanIntegrationTests",
            dependencies: [
                "CapstanCore", "CapstanAPI", "CapstanAPIClient", "CapstanTestSupport", "CapstanReconciler", "CapstanAuth",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: settings),
    ]
)
