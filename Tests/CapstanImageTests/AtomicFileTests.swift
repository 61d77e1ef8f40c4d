import CapstanCore
import CapstanLinux
import Foundation
import Glibc
import Testing

/// `AtomicFile`, the one durable write of every store that a restart reads back (docs/crash-safety.md).
@Suite("AtomicFile")
struct AtomicFileTests {
    static func withDirectory<T>(_ body: (String) throws -> T) throws -> T {
        let path = NSTemporaryDirectory() + "capstan-atomic-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try body(path)
    }

    static func mode(_ path: String) -> mode_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o777 : 0
    }

    @Test func replacesTheTargetWholeAndLeavesNoTemporaryFile() throws {
        try Self.withDirectory { dir in
            let path = dir + "/state.json"
            try AtomicFile.write(Data(repeating: 0x41, count: 100_000), to: path)
            try AtomicFile.write(Data("short".utf8), to: path, mode: 0o600)
            #expect(FileManager.default.contents(atPath: path) == Data("short".utf8), "the old, longer content is gone whole")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["state.json"])
            #expect(Self.mode(path) == 0o600, "the file is the new inode, with the mode of the write that made it")
        }
    }

    @Test func keepsTheOldFileAndLeavesNoTemporaryFileWhenTheRenameFails() throws {
        try Self.withDirectory { dir in
            let path = dir + "/taken"
            try FileManager.default.createDirectory(atPath: path + "/inside", withIntermediateDirectories: true)
            #expect(throws: CapstanError.self) { try AtomicFile.write(Data("x".utf8), to: path) }
            do { try AtomicFile.write(Data("x".utf8), to: path) } catch let error as CapstanError {
                #expect(error.message.contains(path), "\(error)")
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["taken"])
            #expect(try FileManager.default.contentsOfDirectory(atPath: path) == ["inside"])
        }
    }

    @Test func namesTheFileWhenItsDirectoryIsMissing() throws {
        try Self.withDirectory { dir in
            let path = dir + "/missing/state.json"
            do {
                try AtomicFile.write(Data("x".utf8), to: path)
                Issue.record("a write into a missing directory succeeded")
            } catch let error as CapstanError {
                #expect(error.message.contains(dir + "/missing/state.json"), "\(error)")
            }
        }
    }

    @Test func syncsTheFileSystemOfADirectoryAndNamesAMissingOne() throws {
        try Self.withDirectory { dir in
            try AtomicFile.syncFileSystem(containing: dir)
            do {
                try AtomicFile.syncFileSystem(containing: dir + "/nope")
                Issue.record("syncfs of a missing directory succeeded")
            } catch let error as CapstanError {
                #expect(error.message.contains(dir + "/nope"), "\(error)")
            }
        }
    }
}
