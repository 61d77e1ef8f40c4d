import CapstanCore
import Testing

@Suite("ManifestSet")
struct ManifestSetTests {
    func entry(_ name: AppName, file: String, line: Int, dependsOn: [AppName] = [], kind: WorkloadKind = .app) -> ManifestEntry {
        ManifestEntry(
            workload: Workload(kind: kind, name: name, spec: WorkloadSpec(command: ["x"], dependsOn: dependsOn)),
            nameLocation: SourceLocation(file: file, line: line, column: 9),
            dependsOnLocations: dependsOn.indices.map { SourceLocation(file: file, line: line + 10 + $0, column: 7) })
    }

    @Test func reportsDuplicateNamesAtTheSecondDefinition() {
        let set = ManifestSet(entries: [entry("web", file: "a.yaml", line: 4), entry("web", file: "b.yaml", line: 4)])
        #expect(set.diagnostics.map(\.description) == [
            "b.yaml:4:9: metadata.name: duplicate name 'web': already defined at a.yaml:4:9"
        ])
    }

    @Test func reportsDanglingDependencies() {
        let set = ManifestSet(entries: [entry("web", file: "a.yaml", line: 4, dependsOn: ["db"])])
        #expect(set.diagnostics.map(\.description) == [
            "a.yaml:14:7: spec.dependsOn[0]: 'db' is not an app or job in this repository"
        ])
    }

    @Test func reportsEachCycleOnce() {
        let set = ManifestSet(entries: [
            entry("a", file: "a.yaml", line: 4, dependsOn: ["b"]), entry("b", file: "b.yaml", line: 4, dependsOn: ["a"]),
            entry("c", file: "c.yaml", line: 4, dependsOn: ["c"]),
        ])
        #expect(set.diagnostics.map(\.description) == [
            "b.yaml:14:7: spec.dependsOn[0]: dependency cycle: a -> b -> a",
            "c.yaml:14:7: spec.dependsOn[0]: dependency cycle: c -> c",
        ])
    }

    @Test func summarisesAppsAndJobs() {
        let set = ManifestSet(entries: [
            entry("a", file: "a.yaml", line: 1), entry("b", file: "a.yaml", line: 9), entry("m", file: "m.yaml", line: 1, kind: .job),
        ])
        #expect(set.isValid)
        #expect(set.summary == "2 apps, 1 job")
    }
}
