import CapstanCore
import Foundation
import Glibc
import NIOCore
import NIOPosix

/// The paths the files API serves a sandbox under, as Mesos attaches them: the sandbox's own directory
/// (`<work-dir>/slaves/<agent>/frameworks/<fw>/executors/<ex>/runs/<container>`), and the alias
/// `/slaves/<agent>/frameworks/<fw>/executors/<ex>/runs/latest` for the executor's latest run. An alias is translated
/// to the real path before anything is opened, so it gets the same confinement (openat2 beneath the root, no symlink
/// followed) as a real path.
extension SandboxFiles {
    /// One sandbox the agent has attached.
    public struct Sandbox: Sendable, Equatable {
        public var agentID: String
        public var frameworkID: String
        public var executorID: String
        /// The real directory (beneath the sandboxes root).
        public var directory: String

        public init(agentID: String, frameworkID: String, executorID: String, directory: String) {
            self.agentID = agentID
            self.frameworkID = frameworkID
            self.executorID = executorID
            self.directory = directory
        }

        /// `/slaves/<agent>/frameworks/<fw>/executors/<ex>/runs/latest`.
        public var alias: String {
            "/slaves/\(agentID)/frameworks/\(frameworkID)/executors/\(executorID)/runs/latest"
        }
    }

    /// The real path a client's path names: itself when it is beneath the root, the latest run's directory (plus the
    /// rest) for a `runs/latest` alias; nil for any other path (which is answered as not found).
    func realPath(of path: String) async -> String? {
        if components(of: path) != nil { return path }
        guard path.hasPrefix("/slaves/") else { return nil }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        // slaves <agent> frameworks <fw> executors <ex> runs latest [rest…]
        guard parts.count >= 8, parts[2] == "frameworks", parts[4] == "executors", parts[6] == "runs", parts[7] == "latest"
        else { return nil }
        guard let sandbox = await sandboxes().last(where: {
            $0.agentID == parts[1] && $0.frameworkID == parts[3] && $0.executorID == parts[5]
        }) else { return nil }
        return ([sandbox.directory] + parts.dropFirst(8)).joined(separator: "/")
    }

    /// `/files/debug`: every attached virtual path and the real directory it names.
    public func debug() async -> [String: String] {
        var paths: [String: String] = [:]
        for sandbox in await sandboxes() {
            paths[sandbox.directory] = sandbox.directory
            paths[sandbox.alias] = sandbox.directory  // later runs of an executor replace earlier ones
        }
        return paths
    }

    /// A file opened for `/files/download`; its descriptor is closed when the last reference goes.
    public final class OpenedFile: Sendable {
        let fd: Int32
        /// The size when it was opened; the download sends at most this much.
        public let size: Int64
        /// The file's name (the last path component the client gave).
        public let name: String

        init(fd: Int32, size: Int64, name: String) {
            self.fd = fd
            self.size = size
            self.name = name
        }

        deinit { close(fd) }

        /// Up to `count` bytes from `offset` (fewer at the end of the file), read on NIO's blocking pool.
        public func read(at offset: Int64, count: Int) async throws -> ByteBuffer {
            try await NIOThreadPool.singleton.runIfActive { [fd] in
                var buffer = ByteBufferAllocator().buffer(capacity: count)
                let n = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
                    var done = 0
                    while done < count {
                        let got = pread(fd, raw.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                        if got < 0, errno == EINTR { continue }
                        guard got > 0 else { break }
                        done += got
                    }
                    return done
                }
                _ = n
                return buffer
            }
        }
    }

    /// Opens a file for `/files/download`, as `/files/read` would (the same confinement and the same 404).
    public func download(_ path: String) async throws -> OpenedFile {
        guard !path.isEmpty else { throw CapstanError(.invalidArgument, "Expecting 'path' to be present") }
        let real = await realPath(of: path)
        let name = path.split(separator: "/").last.map(String.init) ?? "download"
        return try await NIOThreadPool.singleton.runIfActive {
            let (fd, size) = try openFile(real ?? "", shown: path)
            return OpenedFile(fd: fd, size: size, name: name)
        }
    }
}
