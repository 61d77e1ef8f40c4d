import CapstanManifest
import Foundation
import Testing

@Suite("ManifestSchema")
struct ManifestSchemaTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func committedSchemaEqualsTheGeneratedOne() throws {
        let committed = try String(contentsOf: Self.root.appendingPathComponent(ManifestSchema.committedPath), encoding: .utf8)
        // On a difference, regenerate: swift run capstan validate --print-schema > Manifests/schema/capstan-v1.schema.json
        #expect(committed == ManifestSchema.json)
    }

    @Test func schemaIsJSONWhosePropertiesAreTheDecodersFields() throws {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(ManifestSchema.json.utf8)) as? [String: Any])
        let properties = try #require(object["properties"] as? [String: Any])
        #expect(Set(properties.keys) == Set(ManifestFields.document))
        let defs = try #require(object["$defs"] as? [String: Any])
        let spec = try #require(defs["spec"] as? [String: Any])
        let specProperties = try #require(spec["properties"] as? [String: Any])
        #expect(Set(specProperties.keys) == Set(ManifestFields.spec))
        #expect(spec["additionalProperties"] as? Bool == false)
        let resources = try #require(specProperties["resources"] as? [String: Any])
        #expect(Set(try #require(resources["properties"] as? [String: Any]).keys) == Set(ManifestFields.resources))
    }
}
