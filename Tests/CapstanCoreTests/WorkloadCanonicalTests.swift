@testable import CapstanCore
import Testing

@Suite("Workload canonical form")
struct WorkloadCanonicalTests {
    @Test func canonicalJSONSortsKeysAndFormatsNumbers() {
        let value = CanonicalValue.object(["b": .number(1), "a": .array([.number(0.5), .string("x\"y"), .null, .bool(true)])])
        #expect(value.json == #"{"a":[0.5,"x\"y",null,true],"b":1}"#)
    }

    @Test func canonicalStringsEscapeQuotesBackslashesAndControlsAndKeepOtherUnicode() {
        let value = CanonicalValue.object(["k\u{1}": .string("a\"b\\c\nd\re\tf\u{1f}g é 🚢")])
        #expect(value.json == #"{"k\u0001":"a\"b\\c\nd\re\tf\u001fg é 🚢"}"#)
        #expect(value.utf8 == Array(value.json.utf8))
    }

    @Test func specHashIsSHA256OfTheCanonicalJSON() {
        let workload = Workload(kind: .app, name: "web", spec: WorkloadSpec(command: ["/bin/true"]))
        #expect(workload.specHash.count == 64)
        #expect(workload.specLabel == String(workload.specHash.prefix(16)))
        // Spelling out the defaults means the same thing.
        let explicit = Workload(
            kind: .app, name: "web", labels: [:],
            spec: WorkloadSpec(
                command: ["/bin/true"], instances: 1, resources: ResourceRequest(cpus: 1, memMiB: 128),
                update: UpdateStrategy(minHealthy: .percent(100), maxSurge: .count(1)), killGracePeriod: .seconds(5)))
        #expect(explicit.specHash == workload.specHash)
    }

    @Test func specHashChangesWithAnyField() {
        let base = Workload(kind: .app, name: "web", spec: WorkloadSpec(command: ["/bin/true"]))
        var changes: [Workload] = []
        var w = base
        w.spec.instances = 2; changes.append(w)
        w = base; w.spec.resources.memMiB = 256; changes.append(w)
        w = base; w.spec.env = ["A": "1"]; changes.append(w)
        w = base; w.kind = .job; changes.append(w)
        w = base; w.labels = ["team": "x"]; changes.append(w)
        w = base; w.spec.constraints = [Constraint(attribute: "hostname", .unique)]; changes.append(w)
        w = base; w.spec.health = HealthCheckSpec(check: .tcp(port: .number(80))); changes.append(w)
        let hashes = Set(changes.map(\.specHash) + [base.specHash])
        #expect(hashes.count == changes.count + 1)
    }

    @Test func sha256MatchesTheStandardVectors() {
        #expect(CanonicalSHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(CanonicalSHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            CanonicalSHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }
}
