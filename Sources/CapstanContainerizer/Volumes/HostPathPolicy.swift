public import CapstanCore
import Foundation
import Glibc

/// Which host paths a container may mount: only those under the agent's allowed roots (`--allowed-host-paths`), with
/// every symlink resolved first so that a link cannot lead out, never a path with `..`, and never one that exposes
/// what the agent protects (its work dir, its credentials).
public struct HostPathPolicy: Sendable, Hashable {
    /// The allowed roots as configured (absolute paths).
    public let allowedRoots: [String]
    /// Paths no volume may be, be inside, or contain.
    public let protectedPaths: [String]

    /// - Throws: `invalidArgument` naming `--allowed-host-paths` for a root that is not an absolute path.
    public init(allowedRoots: [String], protectedPaths: [String] = []) throws(CapstanError) {
        for root in allowedRoots where !root.hasPrefix("/") || root.contains("\0") || Self.components(root).contains("..") {
            throw CapstanError(.invalidArgument, "--allowed-host-paths '\(root)' must be an absolute path without '..'")
        }
        self.allowedRoots = allowedRoots
        self.protectedPaths = protectedPaths
    }

    /// No host path allowed (the agent's default).
    public static let none = HostPathPolicy(checked: [], protectedPaths: [])

    private init(checked roots: [String], protectedPaths: [String]) {
        allowedRoots = roots
        self.protectedPaths = protectedPaths
    }

    /// The path to mount for `path`: `path` with its symlinks resolved, when that is under an allowed root.
    /// - Parameter field: what names `path` in messages, e.g. `task.container.volumes[0].host_path`.
    /// - Throws: `invalidArgument` or `permissionDenied` with a message naming the field, the path and the reason.
    public func resolve(_ path: String, field: String) throws(CapstanError) -> String {
        guard path.hasPrefix("/"), !path.contains("\0") else {
            throw CapstanError(.invalidArgument, "\(field) '\(path)' must be an absolute host path")
        }
        guard !Self.components(path).contains("..") else {
            throw CapstanError(.invalidArgument, "\(field) '\(path)' contains '..'; name the host path itself")
        }
        guard !allowedRoots.isEmpty else {
            throw CapstanError(
                .permissionDenied, "\(field) '\(path)': this agent allows no host paths (start it with --allowed-host-paths /srv/data,…)")
        }
        let lexical = "/" + Self.components(path).joined(separator: "/")
        let roots = allowedRoots.map { ("/" + Self.components($0).joined(separator: "/"), HostPaths.real($0)) }
        let list = allowedRoots.joined(separator: ", ")
        guard roots.contains(where: { Self.isWithin(lexical, $0.0) }) else {
            throw CapstanError(.permissionDenied, "\(field) '\(path)' is not under the agent's --allowed-host-paths (\(list))")
        }
        guard let resolved = HostPaths.real(path) else {
            throw CapstanError(.notFound, "\(field) '\(path)' does not exist on the agent")
        }
        guard roots.contains(where: { root in root.1.map { Self.isWithin(resolved, $0) } ?? false }) else {
            throw CapstanError(
                .permissionDenied, "\(field) '\(path)' leads through a symlink to '\(resolved)', outside the agent's --allowed-host-paths (\(list))")
        }
        for protected in protectedPaths {
            let real = HostPaths.real(protected) ?? protected
            if Self.isWithin(resolved, real) || Self.isWithin(real, resolved) {
                throw CapstanError(.permissionDenied, "\(field) '\(path)' would expose '\(protected)', which the agent keeps from tasks")
            }
        }
        return resolved
    }

    /// Whether `path` is `root` or below it (both absolute, normalized).
    static func isWithin(_ path: String, _ root: String) -> Bool {
        root == "/" || path == root || path.hasPrefix(root + "/")
    }

    static func components(_ path: String) -> [String] {
        path.split(separator: "/").map(String.init).filter { $0 != "." }
    }
}
