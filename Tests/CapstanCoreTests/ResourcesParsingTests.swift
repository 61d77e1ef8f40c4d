import Testing

@testable import CapstanCore

@Suite("Resources.parse")
struct ResourcesParsingTests {
    @Test func parsesTheAgentFlagFormat() throws {
        let resources = try Resources.parse(
            "cpus:2;mem:1024;disk:4096;ports:[31000-32000, 33000-33010];gpus:0;cpus(web):1;zones:{a,b}")
        #expect(resources.cpus == 3)
        #expect(resources.reserved(for: "web").cpus == 1)
        #expect(resources.mem == 1024)
        #expect(resources.disk == 4096)
        #expect(resources.gpus == 0)
        #expect(resources.entries.contains { $0.name == "gpus" } == false)
        #expect(
            resources.ranges("ports")
                == [ValueRange(begin: 31000, end: 32000), ValueRange(begin: 33000, end: 33010)])
        #expect(resources.set("zones") == ["a", "b"])
    }

    @Test func toleratesSpacesTrailingSemicolonsAndFractions() throws {
        let resources = try Resources.parse(" cpus : 0.5 ; mem:1e3;cpus:1.5; ")
        #expect(resources == Resources([.scalar("cpus", 2), .scalar("mem", 1000)]))
    }

    @Test func roundTripsThroughItsDescription() throws {
        let text = "cpus:2; cpus(web):1; mem:1024; ports:[31000-32000]; zones:{a,b}"
        let resources = try Resources.parse(text)
        #expect(resources.description == text)
        #expect(try Resources.parse(resources.description) == resources)
    }

    @Test func parsesAnEmptyStringAsNoResources() throws {
        #expect(try Resources.parse("").isEmpty)
        #expect(try Resources.parse(" ; ").isEmpty)
    }

    @Test func reportsABadNumberWithItsColumn() {
        #expect(throws: ResourceParseError(text: "cpus:x", position: 5, reason: "expected a number")) {
            try Resources.parse("cpus:x")
        }
        let error = #expect(throws: ResourceParseError.self) { try Resources.parse("cpus:x") }
        #expect(error?.description == "invalid resources 'cpus:x' at column 6: expected a number")
    }

    @Test(arguments: [
        ("cpus", 4, "expected ':' after the resource name"),
        ("mem:1;cpus", 10, "expected ':' after the resource name"),
        (":2", 0, "expected a resource name"),
        ("cpus:", 5, "expected a value"),
        ("cpus:-1", 5, "expected a non-negative number"),
        ("cpus:inf", 5, "expected a number"),
        ("cpus(web:1", 8, "expected ')' after the role"),
        ("cpus(web:1)", 8, "expected ')' after the role"),
        ("cpus(:1", 5, "expected ')' after the role"),
        ("cpus():1", 5, "expected a role name"),
        ("cp us:1", 2, "unexpected ' ' in resource name"),
        ("ports:[1-2", 10, "expected ']' to close the ranges"),
        ("ports:[1-2,]", 11, "expected a range 'begin-end'"),
        ("ports:[5]", 7, "expected a range 'begin-end'"),
        ("ports:[a-2]", 7, "expected an integer"),
        ("ports:[9-2]", 7, "range begin is greater than its end"),
        ("zones:{a,,b}", 9, "expected a set item"),
        ("zones:{a", 8, "expected '}' to close the set"),
    ])
    func reportsMalformedItemsAtTheRightColumn(text: String, position: Int, reason: String) {
        let error = #expect(throws: ResourceParseError.self) { try Resources.parse(text) }
        #expect(error?.position == position)
        #expect(error?.reason == reason)
        #expect(error?.text == text)
    }
}
