import CapstanAPI
import CapstanCore
import Foundation
import Testing

@testable import CapstanMaster

@Suite("Master registry store")
struct MasterRegistryStoreTests {
    static func agent(_ id: String, port: Int) -> RegisteredAgent {
        RegisteredAgent(id: AgentID(id), info: AgentInfo(hostname: "h-\(id)", resources: []), endpoint: "127.0.0.1:\(port)", principal: "p-\(id)")
    }

    @Test func sqliteKeepsWhatWasAppliedAcrossReopens() async throws {
        let directory = NSTemporaryDirectory() + "capstan-registry-\(UUID().uuidString.prefix(6))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/registry.sqlite"
        let framework = RegisteredFramework(
            id: FrameworkID("fw-1"), info: FrameworkInfo(user: "root", name: "f", failoverTimeout: 3600), principal: "alice")
        let operations: [RegistryOperation] = [
            .admitAgent(Self.agent("a1", port: 1)), .admitAgent(Self.agent("a2", port: 2)), .recordFramework(framework),
            .removeAgent(AgentID("a1")), .admitAgent(Self.agent("a2", port: 3)),
        ]
        do {
            let registry = try SQLiteMasterRegistry(path: path)
            try await registry.apply(Array(operations.prefix(3)))
            try await registry.apply(Array(operations.dropFirst(3)))
        }
        let reopened = try await SQLiteMasterRegistry(path: path).load()
        #expect(reopened == RegistryContents().applying(operations))
        #expect(reopened.agents.keys.map(\.value) == ["a2"])
        #expect(reopened.agents[AgentID("a2")]?.endpoint == "127.0.0.1:3")
        #expect(reopened.frameworks[FrameworkID("fw-1")]?.info.failoverTimeout == 3600)
        #expect(reopened.frameworks[FrameworkID("fw-1")]?.principal == "alice")
    }

    @Test func aCorruptRowIsAnErrorNamingTheFileAndTheRow() async throws {
        let directory = NSTemporaryDirectory() + "capstan-registry-\(UUID().uuidString.prefix(6))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/registry.sqlite"
        try await SQLiteMasterRegistry(path: path).apply([.admitAgent(Self.agent("a1", port: 1))])
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        sqlite.arguments = ["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE agent SET record='{\\\"id\\\": ' WHERE id='a1'\"); c.commit()", path]
        try sqlite.run()
        sqlite.waitUntilExit()
        #expect(sqlite.terminationStatus == 0)
        let error = await #expect(throws: CapstanError.self) { try await SQLiteMasterRegistry(path: path).load() }
        #expect(error?.message.contains("The master's registry \(path) holds an unreadable agent row 'a1'") == true, "\(String(describing: error))")
    }
}
