import CapstanCore
import Testing

@Suite("IdentifierRule")
struct IdentifierRuleTests {
    @Test func acceptsTheIDsMesosClientsUse() {
        for id in ["web.3f1c0a9e.0", "5f3c-0001", "a1b2c3d4-0000-4e5f-8a9b-0123456789ab", "fw-1-S2", "task:1@x+y=z~w,v", "A_b"] {
            #expect(IdentifierRule.problem(with: id) == nil, "\(id)")
        }
    }

    @Test func refusesPathLikeEmptyLongAndControlIDs() {
        for id in ["", ".", "..", "../../../../tmp/victim", "a/b", "/etc", "a b", "tab\t", "nul\0x", "é", String(repeating: "x", count: 201), "a\\b"] {
            #expect(IdentifierRule.problem(with: id) != nil, "\(id)")
        }
    }

    @Test func checkNamesTheFieldAndEscapesControlCharacters() {
        do {
            try FrameworkID("../x\n").checkPathSafe(field: "subscribe.framework_info.id.value")
            Issue.record("accepted a path-like framework ID")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("'subscribe.framework_info.id.value'"))
            #expect(error.message.contains("\\u{a}"))
        }
    }

    @Test func safePathStaysUnderItsRoot() throws {
        let path = try SafePath(root: "/var/lib/capstan/slaves", [.id("agent-1"), "frameworks", .id("fw-1")])
        #expect(path.path == "/var/lib/capstan/slaves/agent-1/frameworks/fw-1")
        #expect(throws: CapstanError.self) { try SafePath(root: "/w", ["frameworks", .id("..")]) }
        #expect(throws: CapstanError.self) { try SafePath(root: "/w", [.id("a/../../etc")]) }
        #expect(throws: CapstanError.self) { try SafePath(root: "/w", [.literal("../x")]) }
        #expect(throws: CapstanError.self) { try SafePath(root: path.path, [.id("")]) }
    }
}
