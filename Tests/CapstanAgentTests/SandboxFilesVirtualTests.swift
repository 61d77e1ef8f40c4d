@testable import CapstanAgent
import CapstanCore
import Foundation
import Glibc
import Logging
import NIOCore
import Synchronization
import Testing

/// The `runs/latest` aliases, `/files/debug`, `/files/download` and LIST_FILES' listing, on a sandbox laid out as
/// the agent lays it out.
@Suite("SandboxFiles virtual paths")
struct SandboxFilesVirtualTests {
    static let secret = "HOST-SECRET-virtual-42"

    struct Fixture {
        let work: String
        var runs: String { work + "/slaves/a1/frameworks/f1/executors/e1/runs" }
        var first: String { runs + "/c1" }
        var second: String { runs + "/c2" }
        var secretFile: String { work + "/secret" }
        let sandboxes = SandboxList()

        static func with(_ body: (Fixture) async throws -> Void) async throws {
            let fixture = Fixture(work: NSTemporaryDirectory() + "capstan-vfiles-\(UUID().uuidString)")
            let fm = FileManager.default
            for run in [fixture.first, fixture.second] { try fm.createDirectory(atPath: run + "/dir", withIntermediateDirectories: true) }
            try Data("first\n".utf8).write(to: URL(fileURLWithPath: fixture.first + "/stdout"))
            try Data("second-1\nsecond-2\n".utf8).write(to: URL(fileURLWithPath: fixture.second + "/stdout"))
            try Data(SandboxFilesVirtualTests.secret.utf8).write(to: URL(fileURLWithPath: fixture.secretFile))
            defer { try? fm.removeItem(atPath: fixture.work) }
            fixture.sandboxes.set([fixture.sandbox(fixture.first)])
            try await body(fixture)
        }

        func sandbox(_ directory: String) -> SandboxFiles.Sandbox {
            SandboxFiles.Sandbox(agentID: "a1", frameworkID: "f1", executorID: "e1", directory: directory)
        }

        func files(_ resolution: SandboxFiles.Resolution = .kernel) -> SandboxFiles {
            let list = sandboxes
            return SandboxFiles(workDir: work, resolution: resolution, logger: Logger(label: "test")) { list.get() }
        }
    }

    /// The agent's sandboxes as a test changes them.
    final class SandboxList: Sendable {
        private let value = Mutex<[SandboxFiles.Sandbox]>([])
        func set(_ list: [SandboxFiles.Sandbox]) { value.withLock { $0 = list } }
        func get() -> [SandboxFiles.Sandbox] { value.withLock { $0 } }
    }

    static let alias = "/slaves/a1/frameworks/f1/executors/e1/runs/latest"

    static func isNotFound(_ error: (any Error)?, for path: String) -> Bool {
        let error = error as? CapstanError
        return error?.code == .notFound && error?.message == "No such file or directory: \(path)"
    }

    @Test("runs/latest reads the executor's latest run, and follows a new run as soon as the agent attaches it")
    func latestAliasFollowsTheLatestRun() async throws {
        try await Fixture.with { (fixture: Fixture) async throws in
            for resolution in [SandboxFiles.Resolution.kernel, .walk] {
                fixture.sandboxes.set([fixture.sandbox(fixture.first)])
                let files = fixture.files(resolution)
                #expect(try await files.read(Self.alias + "/stdout", offset: 0, length: nil) == SandboxFiles.Chunk(data: "first\n", offset: 0))
                fixture.sandboxes.set([fixture.sandbox(fixture.first), fixture.sandbox(fixture.second)])
                #expect(try await files.read(Self.alias + "/stdout", offset: 9, length: 100) == SandboxFiles.Chunk(data: "second-2\n", offset: 9))
                #expect(try await files.read(Self.alias + "/stdout", offset: -1, length: nil) == SandboxFiles.Chunk(data: "", offset: 18))
                // The listing names the alias the client asked for, not the real directory.
                #expect(try await files.browse(Self.alias).map(\.path) == [Self.alias + "/dir", Self.alias + "/stdout"])
                #expect(try await files.browse(Self.alias + "/").map(\.path) == [Self.alias + "/dir", Self.alias + "/stdout"])
            }
        }
    }

    @Test("Aliases that name no sandbox, escape with '..', or reach a symlink to /etc/shadow get the same 404")
    func aliasesCannotEscape() async throws {
        try await Fixture.with { fixture in
            try FileManager.default.createSymbolicLink(atPath: fixture.first + "/shadow", withDestinationPath: "/etc/shadow")
            try FileManager.default.createSymbolicLink(atPath: fixture.first + "/secret", withDestinationPath: fixture.secretFile)
            try FileManager.default.createSymbolicLink(atPath: fixture.first + "/up", withDestinationPath: fixture.work)
            for resolution in [SandboxFiles.Resolution.kernel, .walk] {
                let files = fixture.files(resolution)
                let paths = [
                    Self.alias + "/shadow", Self.alias + "/secret", Self.alias + "/up/secret", Self.alias + "/../../../../../../../secret",
                    Self.alias + "/dir/../../c2/stdout", "/slaves/a2/frameworks/f1/executors/e1/runs/latest/stdout",
                    "/slaves/a1/frameworks/f1/executors/e9/runs/latest/stdout", "/slaves/a1/frameworks/f1/executors/e1/runs/c1/stdout",
                    "/slaves/a1/frameworks/f1/executors/e1/runs/latest/../c2/stdout", "/slaves/../etc/shadow", "/etc/shadow",
                    fixture.first + "/shadow", fixture.first + "/../../../../../../../../secret", Self.alias + "/missing",
                ]
                for path in paths {
                    await #expect(Self.isNotFound(#expect(throws: CapstanError.self) { try await files.read(path, offset: 0, length: nil) }, for: path), "\(path)")
                    await #expect(Self.isNotFound(#expect(throws: CapstanError.self) { try await files.browse(path) }, for: path), "\(path)")
                    await #expect(Self.isNotFound(#expect(throws: CapstanError.self) { try await files.download(path) }, for: path), "\(path)")
                    await #expect(Self.isNotFound(#expect(throws: CapstanError.self) { try await files.readForOperator(path, offset: 0, length: nil) }, for: path), "\(path)")
                }
            }
        }
    }

    @Test("/files/debug maps each real sandbox to itself and each executor's alias to its latest run")
    func debugListsTheAttachedPaths() async throws {
        try await Fixture.with { fixture in
            fixture.sandboxes.set([fixture.sandbox(fixture.first), fixture.sandbox(fixture.second)])
            #expect(await fixture.files().debug() == [
                fixture.first: fixture.first, fixture.second: fixture.second, Self.alias: fixture.second,
            ])
        }
    }

    @Test("A download serves the file's bytes and its name; READ_FILE answers exact bytes and the size")
    func downloadAndOperatorRead() async throws {
        try await Fixture.with { fixture in
            let bytes: [UInt8] = [0xff, 0xfe, 0x00, 0x41, 0x0a]
            try Data(bytes).write(to: URL(fileURLWithPath: fixture.first + "/binary"))
            let file = try await fixture.files().download(Self.alias + "/binary")
            #expect(file.name == "binary")
            #expect(file.size == 5)
            #expect(Array(buffer: try await file.read(at: 0, count: 5)) == bytes)
            #expect(Array(buffer: try await file.read(at: 3, count: 5)) == [0x41, 0x0a])
            let (data, size) = try await fixture.files().readForOperator(Self.alias + "/binary", offset: 1, length: 2)
            #expect(data == [0xfe, 0x00])
            #expect(size == 5)
            #expect(try await fixture.files().readForOperator(fixture.first + "/binary", offset: 10, length: nil) == ([], 5))
        }
    }

    @Test("LIST_FILES' listing carries the raw mode bits and mtime in nanoseconds")
    func listCarriesModeAndNanoseconds() async throws {
        try await Fixture.with { fixture in
            chmod(fixture.first + "/stdout", 0o640)
            let listed = try await fixture.files().list(Self.alias)
            let stdout = try #require(listed.first { $0.entry.path == Self.alias + "/stdout" })
            #expect(stdout.mode & 0o777 == 0o640)
            #expect(stdout.mode & S_IFMT == S_IFREG)
            #expect(stdout.entry.mode == "-rw-r-----")
            #expect(stdout.mtimeNanoseconds / 1_000_000_000 == Int64(stdout.entry.mtime))
            let dir = try #require(listed.first { $0.entry.path == Self.alias + "/dir" })
            #expect(dir.mode & S_IFMT == S_IFDIR)
        }
    }
}

private extension Array where Element == UInt8 {
    init(buffer: ByteBuffer) { self = buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes) ?? [] }
}
