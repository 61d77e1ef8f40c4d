import Testing

@testable import CapstanCore

@Suite("AttributeParser")
struct AttributeParserTests {
    @Test func parsesTextScalarAndRangesValuesInOrder() throws {
        let attributes = try AttributeParser.parse("zone:a;rack:1;ports:[1-2, 3-5];os: ubuntu-22.04 ")
        #expect(
            attributes == [
                Attribute(name: "zone", value: .text("a")),
                Attribute(name: "rack", value: .scalar(1)),
                Attribute(name: "ports", value: .ranges([ValueRange(begin: 1, end: 5)])),
                Attribute(name: "os", value: .text("ubuntu-22.04")),
            ])
        #expect(attributes.map(\.description) == ["zone:a", "rack:1", "ports:[1-5]", "os:ubuntu-22.04"])
    }

    @Test func rejectsSetsAndExtraColonsWithTheAttributesSubject() {
        let error = #expect(throws: ResourceParseError.self) { try AttributeParser.parse("zone:{a}") }
        #expect(error?.reason == "sets are not supported in attributes")
        #expect(error?.description == "invalid attributes 'zone:{a}' at column 6: sets are not supported in attributes")
        let colon = #expect(throws: ResourceParseError.self) { try AttributeParser.parse("a:b:c") }
        #expect(colon?.position == 3)
    }

    @Test func rejectsMissingNamesAndValues() {
        #expect(throws: ResourceParseError.self) { try AttributeParser.parse("zone") }
        #expect(throws: ResourceParseError.self) { try AttributeParser.parse(":a") }
        #expect(throws: ResourceParseError.self) { try AttributeParser.parse("zone:") }
    }
}
