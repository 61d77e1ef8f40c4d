@testable import CapstanAgent
import CapstanCore
import Foundation
import Glibc
import Logging
import Synchronization
import Testing

@Suite("SandboxFiles")
struct SandboxFilesTests {
    static let secret = "HOST-SECRET-0123456789"

    /// A work directory with a sandbox at `<work>/slaves/s1`, and a secret file outside the sandboxes.
    struct Fixture {
        let work: String
        var sandbox: String { work + "/slaves/s1" }
        var secretFile: String { work + "/secret" }
        var outsideDirectory: String { work + "/outside" }

        static func with(_ body: (Fixture) async throws -> Void) async throws {
            let work = NSTemporaryDirectory() + "capstan-files-\(UUID().uuidString)"
            let fixture = Fixture(work: work)
            let fm = FileManager.default
            try fm.createDirectory(atPath: fixture.sandbox + "/dir", withIntermediateDirectories: true)
            try fm.createDirectory(atPath: fixture.outsideDirectory, withIntermediateDirectories: true)
            try Data(SandboxFilesTests.secret.utf8).write(to: URL(fileURLWithPath: fixture.secretFile))
            try Data(SandboxFilesTests.secret.utf8).write(to: URL(fileURLWithPath: fixture.outsideDirectory + "/f"))
            try Data("harmless".utf8).write(to: URL(fileURLWithPath: fixture.sandbox + "/dir/f"))
            defer { try? fm.removeItem(atPath: work) }
            try await body(fixture)
        }

        func files(_ resolution: SandboxFiles.Resolution) -> SandboxFiles {
            SandboxFiles(workDir: work, resolution: resolution, logger: Logger(label: "test"))
        }
    }

    static func isNotFound(_ error: CapstanError?, for path: String) -> Bool {
        error?.code == .notFound && error?.message == "No such file or directory: \(path)"
    }

    /// Swaps `path` between what is there (moved aside to `aside` and back) and a symlink to `target`, while `attempt`
    /// runs: at least 5,000 attempts, and on until the swapper has swapped 1,000 times (a loaded machine may give the
    /// swapping thread little time), or 60 seconds pass.
    static func swapping(_ path: String, aside: String, target: String, _ attempt: () throws -> Void) throws {
        let stop = Atomic<Bool>(false)
        let swaps = Atomic<Int>(0)
        let done = Atomic<Bool>(false)
        let thread = Thread {
            while !stop.load(ordering: .relaxed) {
                _ = Glibc.rename(path, aside)
                _ = symlink(target, path)
                _ = unlink(path)
                _ = Glibc.rename(aside, path)
                swaps.add(1, ordering: .relaxed)
            }
            done.store(true, ordering: .releasing)
        }
        thread.start()
        defer {
            stop.store(true, ordering: .relaxed)
            while !done.load(ordering: .acquiring) { usleep(1_000) }
        }
        let deadline = Date().addingTimeInterval(60)
        var attempts = 0
        while attempts < 5_000 || (swaps.load(ordering: .relaxed) < 1_000 && Date() < deadline) {
            try attempt()
            attempts += 1
        }
        #expect(swaps.load(ordering: .relaxed) > 100, "the swapper ran")
    }

    @Test("A file swapped with a symlink to a host file never serves the host file", arguments: [SandboxFiles.Resolution.kernel, .walk])
    func symlinkSwapRaceServesNoSecretBytes(resolution: SandboxFiles.Resolution) async throws {
        try await Fixture.with { fixture in
            let files = fixture.files(resolution)
            let path = fixture.sandbox + "/dir/f"
            var served = 0, leaked = 0
            try Self.swapping(path, aside: fixture.sandbox + "/dir/f.aside", target: fixture.secretFile) {
                guard let chunk = try? files.readNow(path, offset: 0, length: nil) else { return }
                served += 1
                if chunk.data.contains("SECRET") { leaked += 1 }
            }
            #expect(leaked == 0)
            #expect(served > 0, "some reads found the regular file")
        }
    }

    @Test("A parent directory swapped with a symlink to a host directory never serves the host file", arguments: [SandboxFiles.Resolution.kernel, .walk])
    func parentSymlinkSwapRaceServesNoSecretBytes(resolution: SandboxFiles.Resolution) async throws {
        try await Fixture.with { fixture in
            let files = fixture.files(resolution)
            var served = 0, leaked = 0
            try Self.swapping(fixture.sandbox + "/dir", aside: fixture.sandbox + "/dir.aside", target: fixture.outsideDirectory) {
                if let chunk = try? files.readNow(fixture.sandbox + "/dir/f", offset: 0, length: nil) {
                    served += 1
                    if chunk.data.contains("SECRET") { leaked += 1 }
                }
                if let listing = try? files.browseNow(fixture.sandbox + "/dir"), listing.contains(where: { $0.size == Int64(Self.secret.utf8.count) }) {
                    leaked += 1
                }
            }
            #expect(leaked == 0)
            #expect(served > 0)
        }
    }

    @Test("A hard link to a file outside the sandboxes is refused as not found")
    func hardLinkToOutsideFileIsRefused() async throws {
        try await Fixture.with { fixture in
            let path = fixture.sandbox + "/hard"
            #expect(link(fixture.secretFile, path) == 0)
            for resolution in [SandboxFiles.Resolution.kernel, .walk] {
                let error = #expect(throws: CapstanError.self) { try fixture.files(resolution).readNow(path, offset: 0, length: nil) }
                #expect(Self.isNotFound(error, for: path))
                let size = #expect(throws: CapstanError.self) { try fixture.files(resolution).readNow(path, offset: -1, length: nil) }
                #expect(Self.isNotFound(size, for: path))
            }
        }
    }

    @Test("FIFOs, sockets' kin and devices in a sandbox are answered at once as not found")
    func specialFilesAreRefusedWithoutBlocking() async throws {
        try await Fixture.with { fixture in
            let fifo = fixture.sandbox + "/pipe"
            #expect(mkfifo(fifo, 0o644) == 0)
            var paths = [fifo]
            if geteuid() == 0 {
                let device = fixture.sandbox + "/null"
                #expect(mknod(device, S_IFCHR | 0o666, dev_t((1 << 8) | 3)) == 0)
                paths.append(device)
            }
            let clock = ContinuousClock()
            for path in paths {
                let started = clock.now
                let error = await #expect(throws: CapstanError.self) { try await fixture.files(.kernel).read(path, offset: 0, length: nil) }
                #expect(Self.isNotFound(error, for: path))
                let browse = await #expect(throws: CapstanError.self) { try await fixture.files(.walk).browse(path) }
                #expect(Self.isNotFound(browse, for: path))
                // An open that blocked on the FIFO would never return; the bound only catches a wait for a writer.
                #expect(clock.now - started < .seconds(20))
            }
        }
    }

    @Test("Outside paths, existing or not, and escapes get the same not-found answer")
    func outsidePathsAreIndistinguishable() async throws {
        try await Fixture.with { fixture in
            for resolution in [SandboxFiles.Resolution.kernel, .walk] {
                let files = fixture.files(resolution)
                let paths = [
                    fixture.secretFile, fixture.work + "/no-such-file", "/etc/passwd", "/etc/no-such-file",
                    fixture.sandbox + "/../../secret", fixture.sandbox + "/dir/../../../secret", fixture.sandbox + "/../../no-such",
                    fixture.work + "/slaves/../secret", fixture.work + "/slavesX/s1", "relative/path", fixture.sandbox + "/dir/f\u{0}x",
                    fixture.sandbox + "/missing",
                ]
                var answers: Set<String> = []
                for path in paths {
                    let read = #expect(throws: CapstanError.self) { try files.readNow(path, offset: 0, length: nil) }
                    let browse = #expect(throws: CapstanError.self) { try files.browseNow(path) }
                    #expect(Self.isNotFound(read, for: path), "\(path): \(read?.description ?? "served")")
                    #expect(Self.isNotFound(browse, for: path), "\(path): \(browse?.description ?? "served")")
                    answers.insert("\(read?.code.description ?? "") \(read?.message.replacingOccurrences(of: path, with: "PATH") ?? "")")
                }
                #expect(answers.count == 1, "\(answers)")
            }
        }
    }

    @Test("Browse lists symlinks as entries without following them; the root and '.' components resolve")
    func browseListsSymlinksWithoutFollowing() async throws {
        try await Fixture.with { fixture in
            try FileManager.default.createSymbolicLink(atPath: fixture.sandbox + "/dir/shadow", withDestinationPath: fixture.secretFile)
            try FileManager.default.createSymbolicLink(atPath: fixture.sandbox + "/escape", withDestinationPath: fixture.outsideDirectory)
            for resolution in [SandboxFiles.Resolution.kernel, .walk] {
                let files = fixture.files(resolution)
                let listing = try files.browseNow(fixture.sandbox + "/./dir/")
                #expect(listing.map(\.path) == [fixture.sandbox + "/./dir/f", fixture.sandbox + "/./dir/shadow"])
                let link = try #require(listing.last)
                #expect(link.mode.hasPrefix("l"))
                #expect(link.size == Int64(fixture.secretFile.utf8.count))
                #expect(try files.browseNow(fixture.work + "/slaves").map(\.path) == [fixture.work + "/slaves/s1"])
                for path in [fixture.sandbox + "/dir/shadow", fixture.sandbox + "/escape", fixture.sandbox + "/escape/f"] {
                    #expect(Self.isNotFound(#expect(throws: CapstanError.self) { try files.readNow(path, offset: 0, length: nil) }, for: path))
                    #expect(Self.isNotFound(#expect(throws: CapstanError.self) { try files.browseNow(path) }, for: path))
                }
                #expect(try files.readNow(fixture.sandbox + "/dir/f", offset: 2, length: 3) == SandboxFiles.Chunk(data: "rml", offset: 2))
            }
        }
    }

    @Test("Reads are bounded: 1 MiB without a length, 16 MiB at most; offset -1 answers the size")
    func readsAreBounded() async throws {
        try await Fixture.with { fixture in
            let path = fixture.sandbox + "/big"
            try Data(repeating: UInt8(ascii: "a"), count: 20 << 20).write(to: URL(fileURLWithPath: path))
            let files = fixture.files(.kernel)
            #expect(try await files.read(path, offset: 0, length: nil).data.utf8.count == 1 << 20)
            #expect(try await files.read(path, offset: 0, length: -1).data.utf8.count == 1 << 20)
            #expect(try await files.read(path, offset: 0, length: 100 << 20).data.utf8.count == 16 << 20)
            #expect(try await files.read(path, offset: (20 << 20) - 5, length: 100).data == "aaaaa")
            #expect(try await files.read(path, offset: 30 << 20, length: 100) == SandboxFiles.Chunk(data: "", offset: 20 << 20))
            #expect(try await files.read(path, offset: -1, length: nil) == SandboxFiles.Chunk(data: "", offset: 20 << 20))
            await #expect(throws: CapstanError.self) { try await files.read(path, offset: -2, length: nil) }
            await #expect(throws: CapstanError.self) { try await files.read(path, offset: 0, length: -5) }
        }
    }
}
