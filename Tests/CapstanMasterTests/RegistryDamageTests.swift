import CapstanAPI
import CapstanCore
import Foundation
import Testing

@testable import CapstanMaster

/// A registry database that is torn or corrupted is refused with its path and what to do, never read as an empty
/// registry (docs/crash-safety.md).
@Suite("Master registry damage")
struct RegistryDamageTests {
    static func withDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
        let directory = NSTemporaryDirectory() + "capstan-registry-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try await body(directory)
    }

    /// Opens and loads `path`, returning the error that either step threw.
    static func openAndLoad(_ path: String) async -> CapstanError? {
        do {
            _ = try await SQLiteMasterRegistry(path: path).load()
            return nil
        } catch {
            return error as? CapstanError
        }
    }

    @Test func aFileThatIsNotADatabaseIsRefusedWithItsPath() async throws {
        try await Self.withDirectory { directory in
            let path = directory + "/registry.sqlite"
            try Data((0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: URL(fileURLWithPath: path))
            let error = try #require(await Self.openAndLoad(path))
            #expect(error.code == .failedPrecondition)
            #expect(error.message.contains("The master's registry database \(path) is torn or corrupted"), "\(error)")
            #expect(error.message.contains("Restore it from a backup, or move it aside"), "\(error)")
        }
    }

    @Test func aDatabaseTornAfterItsFirstPageIsRefusedWithItsPath() async throws {
        try await Self.withDirectory { directory in
            let path = directory + "/registry.sqlite"
            do {
                let registry = try SQLiteMasterRegistry(path: path)
                let agents = (0..<200).map { index in
                    RegistryOperation.admitAgent(
                        RegisteredAgent(
                            id: AgentID("agent-\(index)"),
                            info: AgentInfo(hostname: "host-\(index)-" + String(repeating: "x", count: 200), resources: []),
                            endpoint: "127.0.0.1:\(index + 1)", principal: "p"))
                }
                try await registry.apply(agents)
            }
            let whole = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(whole.count > 3 * 4096)
            try whole.prefix(4096).write(to: URL(fileURLWithPath: path))
            let error = try #require(await Self.openAndLoad(path), "a torn registry was read as a registry")
            #expect(error.message.contains("The master's registry database \(path) is torn or corrupted"), "\(error)")
        }
    }
}
