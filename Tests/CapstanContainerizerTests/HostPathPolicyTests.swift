@testable import CapstanContainerizer
import CapstanCore
import Foundation
import Testing

@Suite("Host-path volumes: only under the allowed roots, symlinks resolved first, nothing the agent protects")
struct HostPathPolicyTests {
    /// A scratch tree: allowed/data (a directory), allowed/in-link → allowed/data, allowed/out-link → outside,
    /// outside/secret, and a protected work dir under allowed/agent.
    static func withTree(_ body: (String, HostPathPolicy) throws -> Void) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-hostpath-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        for directory in ["allowed/data/sub", "outside", "allowed/agent/work/meta"] {
            try FileManager.default.createDirectory(atPath: root + "/" + directory, withIntermediateDirectories: true)
        }
        try "s".write(toFile: root + "/outside/secret", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: root + "/allowed/in-link", withDestinationPath: root + "/allowed/data")
        try FileManager.default.createSymbolicLink(atPath: root + "/allowed/out-link", withDestinationPath: root + "/outside")
        let policy = try HostPathPolicy(allowedRoots: [root + "/allowed"], protectedPaths: [root + "/allowed/agent/work"])
        try body(root, policy)
    }

    static func refusal(_ policy: HostPathPolicy, _ path: String) -> String {
        do {
            let resolved = try policy.resolve(path, field: "task.container.volumes[0].host_path")
            return "allowed as \(resolved)"
        } catch {
            return error.message
        }
    }

    @Test("A path under an allowed root, directly or through a symlink that stays inside, resolves to its real path")
    func allowed() throws {
        try Self.withTree { root, policy in
            let data = try policy.resolve(root + "/allowed/data", field: "f")
            let sub = try policy.resolve(root + "/allowed/./data/sub/", field: "f")
            let linked = try policy.resolve(root + "/allowed/in-link", field: "f")
            #expect(data == HostPaths.real(root + "/allowed/data"))
            #expect(sub == HostPaths.real(root + "/allowed/data/sub"))
            #expect(linked == HostPaths.real(root + "/allowed/data"))
        }
    }

    @Test("Refused, each with a message naming the field, the path and why")
    func refused() throws {
        try Self.withTree { root, policy in
            #expect(Self.refusal(policy, root + "/outside") == "task.container.volumes[0].host_path '\(root)/outside' is not under the agent's --allowed-host-paths (\(root)/allowed)")
            #expect(Self.refusal(policy, root + "/allowed/../outside") == "task.container.volumes[0].host_path '\(root)/allowed/../outside' contains '..'; name the host path itself")
            #expect(Self.refusal(policy, root + "/allowed/out-link").contains("leads through a symlink to '\(HostPaths.real(root + "/outside") ?? "")', outside the agent's --allowed-host-paths"))
            #expect(Self.refusal(policy, root + "/allowed/out-link/secret").contains("leads through a symlink"))
            #expect(Self.refusal(policy, root + "/allowed/missing") == "task.container.volumes[0].host_path '\(root)/allowed/missing' does not exist on the agent")
            #expect(Self.refusal(policy, "allowed/data").contains("must be an absolute host path"))
            #expect(Self.refusal(policy, root + "/allowed/agent").contains("would expose '\(root)/allowed/agent/work'"), "an ancestor of the work dir")
            #expect(Self.refusal(policy, root + "/allowed/agent/work/meta").contains("would expose"), "inside the work dir")
            #expect(Self.refusal(policy, root + "/allowed").contains("would expose"), "the root itself contains the work dir")
            #expect(Self.refusal(HostPathPolicy.none, root + "/allowed/data").contains("this agent allows no host paths (start it with --allowed-host-paths"))
        }
    }

    @Test("An allowed root must be absolute and without '..'")
    func roots() {
        #expect(throws: CapstanError.self) { try HostPathPolicy(allowedRoots: ["data"]) }
        #expect(throws: CapstanError.self) { try HostPathPolicy(allowedRoots: ["/srv/../etc"]) }
        #expect(HostPathPolicy.isWithin("/srv/data", "/srv") && !HostPathPolicy.isWithin("/srvx", "/srv") && HostPathPolicy.isWithin("/x", "/"))
    }
}
