import CapstanCore
import Testing

@Suite("SpecDiff")
struct SpecDiffTests {
    @Test func equalWorkloadsHaveNoChanges() {
        let web = PlanFixtures.app("web")
        #expect(SpecDiff.changes(from: web, to: web).isEmpty)
    }

    @Test func nestedFieldsGetDottedPathsInOrder() {
        var before = PlanFixtures.app("web", env: ["A": "1", "B": "2"])
        var after = before
        after.spec.env = ["A": "1", "C": "3"]
        after.spec.resources.cpus = 2
        after.labels["team"] = "shop"
        before.spec.health = nil
        after.spec.health = HealthCheckSpec(check: .tcp(port: .number(80)))
        let changes = SpecDiff.changes(from: before, to: after)
        #expect(changes.map(\.path) == ["metadata.labels.team", "spec.env.B", "spec.env.C", "spec.health", "spec.resources.cpus"])
        #expect(changes[1] == FieldChange(path: "spec.env.B", old: .string("2"), new: nil))
        #expect(changes[3].old == .null)
        #expect(changes[4] == FieldChange(path: "spec.resources.cpus", old: .number(0.5), new: .number(2)))
    }

    @Test func scalarArraysChangeAsAWholeAndObjectArraysPerElement() {
        let before = PlanFixtures.app("web")
        var after = before
        after.spec.command = ["/bin/sleep", "60"]
        #expect(SpecDiff.changes(from: before, to: after) == [FieldChange(
            path: "spec.command", old: .array([.string("/bin/sleep"), .string("3600")]),
            new: .array([.string("/bin/sleep"), .string("60")]))])

        var v1 = before, v2 = before
        v1.spec.volumes = [VolumeSpec(path: "/a", source: .host("/srv/a")), VolumeSpec(path: "/b", source: .host("/srv/b"))]
        v2.spec.volumes = [VolumeSpec(path: "/a", source: .host("/srv/a")), VolumeSpec(path: "/b", source: .host("/srv/b"), readOnly: true)]
        #expect(SpecDiff.changes(from: v1, to: v2) == [FieldChange(path: "spec.volumes[1].readOnly", old: .bool(false), new: .bool(true))])

        var v3 = v2
        v3.spec.volumes.removeLast()
        #expect(SpecDiff.changes(from: v2, to: v3).map(\.path) == ["spec.volumes"])
    }

    @Test func defaultsSpelledOutAreNoChange() {
        // The canonical form applies defaults, so an explicit default never shows up as a change.
        let implicit = Workload(kind: .app, name: "web", spec: WorkloadSpec(command: ["x"]))
        let explicit = Workload(kind: .app, name: "web", spec: WorkloadSpec(
            command: ["x"], instances: 1, resources: ResourceRequest(cpus: 1, memMiB: 128), network: NetworkSpec(name: "host")))
        #expect(SpecDiff.changes(from: implicit, to: explicit).isEmpty)
    }
}
