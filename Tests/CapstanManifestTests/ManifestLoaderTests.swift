import CapstanCore
import CapstanManifest
import Foundation
import Testing

/// Diagnostics of one file, as the CLI prints them.
func diagnostics(_ yaml: String, file: String = "apps/web.yaml") -> [String] {
    ManifestLoader.load([ManifestFile(path: file, text: yaml)]).diagnostics.map(\.description)
}

let header = """
    apiVersion: capstan/v1
    kind: App
    metadata:
      name: web
    spec:
      command: [/bin/true]

    """

@Suite("ManifestLoader")
struct ManifestLoaderTests {
    @Test func decodesTheDesignExample() throws {
        let yaml = """
            apiVersion: capstan/v1
            kind: App
            metadata:
              name: web
              labels: {team: shop}
            spec:
              image: docker://127.0.0.1:5000/web:1.2
              command: ["/bin/httpd", "-f", "-p", "8080"]
              env: {MODE: prod, PORT: 8080}
              instances: 3
              resources: {cpus: 0.5, mem: 128Mi, disk: 1Gi, gpus: 0}
              network: {name: bridge, ports: [{name: http, container: 8080}]}
              volumes:
                - {path: /data, persistent: {size: 1Gi}}
                - {path: /etc/web, host: /srv/web, readOnly: true}
                - {path: /shared, docker: {driver: local, name: shared}}
              health: {http: {port: http, path: /healthz}, interval: 5s, gracePeriod: 10s, maxFailures: 3}
              update: {minHealthy: 100%, maxSurge: 1, progressDeadline: 5m}
              backoff: {delay: 2s, factor: 2, max: 1m}
              killGracePeriod: 10s
              constraints: [{hostname: unique}, {attribute: rack, equals: r1}, {attribute: zone, like: "eu-.*"}, {attribute: zone, maxPer: 2}]
              dependsOn: [db]
              user: nobody
            ---
            apiVersion: capstan/v1
            kind: App
            metadata: {name: db}
            spec: {image: "docker://127.0.0.1:5000/db:1"}
            """
        let set = ManifestLoader.load([ManifestFile(path: "web.yaml", text: yaml)])
        #expect(set.diagnostics.map(\.description) == [])
        let web = try #require(set.workloads.first)
        #expect(web.name == "web")
        #expect(web.labels == ["team": "shop"])
        #expect(web.spec.env == ["MODE": "prod", "PORT": "8080"])
        #expect(web.spec.instances == 3)
        #expect(web.spec.resources == ResourceRequest(cpus: 0.5, memMiB: 128, diskMiB: 1024, gpus: 0))
        #expect(web.spec.network == NetworkSpec(name: "bridge", ports: [PortSpec(name: "http", container: 8080)]))
        #expect(web.spec.volumes == [
            VolumeSpec(path: "/data", source: .persistent(sizeMiB: 1024)),
            VolumeSpec(path: "/etc/web", source: .host("/srv/web"), readOnly: true),
            VolumeSpec(path: "/shared", source: .docker(driver: "local", name: "shared")),
        ])
        #expect(web.spec.health == HealthCheckSpec(
            check: .http(port: .name("http"), path: "/healthz"), interval: .seconds(5), timeout: .seconds(5),
            gracePeriod: .seconds(10), maxFailures: 3))
        #expect(web.spec.update == UpdateStrategy(minHealthy: .percent(100), maxSurge: .count(1), progressDeadline: .seconds(300)))
        #expect(web.spec.backoff == RestartBackoff(delay: .seconds(2), factor: 2, max: .seconds(60)))
        #expect(web.spec.killGracePeriod == .seconds(10))
        #expect(web.spec.constraints == [
            Constraint(attribute: "hostname", .unique), Constraint(attribute: "rack", .equals("r1")),
            Constraint(attribute: "zone", .like("eu-.*")), Constraint(attribute: "zone", .maxPer(2)),
        ])
        #expect(web.spec.dependsOn == ["db"])
        #expect(web.spec.user == "nobody")
        #expect(set.summary == "2 apps, 0 jobs")
    }

    @Test func readsSeveralDocumentsPerFileAndSkipsEmptyOnes() {
        let yaml = """
            # comment only
            ---
            apiVersion: capstan/v1
            kind: Job
            metadata: {name: migrate}
            spec: {command: "echo migrate"}
            ---
            apiVersion: capstan/v1
            kind: App
            metadata: {name: web}
            spec: {command: [/bin/true], dependsOn: [migrate]}
            """
        let set = ManifestLoader.load([ManifestFile(path: "all.yml", text: yaml)])
        #expect(set.diagnostics.isEmpty)
        #expect(set.workloads.map(\.name) == ["migrate", "web"])
        #expect(set.jobs.first?.spec.command == ["/bin/sh", "-c", "echo migrate"])
        #expect(set.summary == "1 app, 1 job")
    }

    @Test func aByteOrderMarkIsNotPartOfTheTextAndAnchorsCarryAcrossDocuments() {
        let yaml = "\u{FEFF}apiVersion: capstan/v1\nkind: Job\nmetadata: {name: a}\nspec: &spec {command: [/bin/true], instances: 2}\n"
            + "---\napiVersion: capstan/v1\nkind: Job\nmetadata: {name: b}\nspec: *spec\n"
            + "---\napiVersion: capstan/v1\nkind: Job\nmetadata: {name: c}\nspec: {command: *missing}\n"
        let set = ManifestLoader.load([ManifestFile(path: "bom.yaml", text: yaml)])
        #expect(set.workloads.map(\.name) == ["a", "b"])
        #expect(set.workloads.map(\.spec.instances) == [2, 2])
        #expect(set.diagnostics.map(\.description) == ["bom.yaml:14:17: YAML syntax error: found undefined alias"])
    }

    @Test func reportsBadUnitsAtTheValue() {
        #expect(diagnostics(header + "  resources:\n    mem: 12XB\n") == [
            "apps/web.yaml:8:10: spec.resources.mem: '12XB' is not a size (use e.g. 128Mi, 1Gi)"
        ])
        #expect(diagnostics(header + "  killGracePeriod: 5 parsecs\n") == [
            "apps/web.yaml:7:20: spec.killGracePeriod: '5 parsecs' is not a duration (use e.g. 500ms, 5s, 1m, 2h)"
        ])
    }

    @Test func reportsUnknownFieldsAtTheKey() {
        let found = diagnostics(header + "  replicas: 3\n  resources: {cpus: 1, memory: 1Gi}\n")
        #expect(found.count == 2)
        #expect(found[0].hasPrefix("apps/web.yaml:7:3: spec.replicas: unknown field 'replicas' (expected one of: image, command,"))
        #expect(found[1] == "apps/web.yaml:8:24: spec.resources.memory: unknown field 'memory' (expected one of: cpus, mem, disk, gpus)")
    }

    @Test func reportsWrongTypes() {
        #expect(diagnostics(header + "  instances: \"3\"\n") == [
            "apps/web.yaml:7:14: spec.instances: expected an integer, got a string"
        ])
        #expect(diagnostics(header + "  env: [A]\n") == ["apps/web.yaml:7:8: spec.env: expected a mapping of strings, got a list"])
        #expect(diagnostics(header + "  user: 1000\n") == [
            "apps/web.yaml:7:9: spec.user: expected a string, got an integer (quote it: '1000')"
        ])
        #expect(diagnostics(header + "  instances: -1\n") == ["apps/web.yaml:7:14: spec.instances: must be at least 0, got -1"])
        #expect(diagnostics(header + "  resources: {cpus: many}\n") == [
            "apps/web.yaml:7:21: spec.resources.cpus: expected a number, got a string"
        ])
    }

    @Test func reportsDuplicateKeys() {
        #expect(diagnostics(header + "  instances: 2\n  instances: 3\n") == [
            "apps/web.yaml:8:3: spec.instances: duplicate field 'instances'"
        ])
    }

    @Test func reportsMissingFieldsKindAndVersion() {
        let yaml = """
            apiVersion: capstan/v2
            kind: Deployment
            metadata:
              labels: {a: b}
            """
        #expect(diagnostics(yaml) == [
            "apps/web.yaml:1:1: spec: missing required field 'spec'",
            "apps/web.yaml:1:13: apiVersion: unsupported apiVersion 'capstan/v2' (expected capstan/v1)",
            "apps/web.yaml:2:7: kind: unknown kind 'Deployment' (expected App or Job)",
            "apps/web.yaml:4:3: metadata.name: missing required field 'name'",
        ])
        #expect(diagnostics("- a\n- b\n") == ["apps/web.yaml:1:1: expected a mapping, got a list"])
    }

    @Test func needsAnImageOrACommand() {
        #expect(diagnostics("apiVersion: capstan/v1\nkind: Job\nmetadata: {name: j}\nspec: {instances: 1}\n") == [
            "apps/web.yaml:4:7: spec: needs an image or a command"
        ])
    }

    @Test func reportsBadNames() {
        let yaml = header.replacingOccurrences(of: "name: web", with: "name: Web_1")
        #expect(diagnostics(yaml) == [
            "apps/web.yaml:4:9: metadata.name: 'Web_1' is not a DNS label (1-63 of a-z, 0-9 and '-', starting and ending with a letter or digit)"
        ])
    }

    @Test func reportsYAMLSyntaxErrorsWithTheirPosition() {
        let found = diagnostics("apiVersion: capstan/v1\nkind: [App\nspec: {}\n")
        #expect(found.count == 1)
        #expect(found[0].hasPrefix("apps/web.yaml:3:"))
        #expect(found[0].contains("YAML syntax error"))
    }

    @Test func reportsHealthVolumeAndConstraintProblems() {
        let yaml = header + """
              network: {ports: [{name: http}, {name: http}]}
              health: {http: {port: admin}, timeout: 20s}
              volumes:
                - {path: data, host: /srv}
                - {path: /x, host: /a, docker: {name: v}}
                - {path: /y}
              constraints:
                - {hostname: spread}
                - {attribute: rack}
                - {attribute: rack, like: "("}
            """
        #expect(diagnostics(yaml) == [
            "apps/web.yaml:7:42: spec.network.ports[1].name: duplicate port name 'http'",
            "apps/web.yaml:8:25: spec.health.http.port: port 'admin' is not one of spec.network.ports (http)",
            "apps/web.yaml:8:42: spec.health.timeout: must not be longer than interval",
            "apps/web.yaml:10:14: spec.volumes[0].path: 'data' is not an absolute path (only a persistent volume may be relative to the sandbox)",
            "apps/web.yaml:11:28: spec.volumes[1].docker: a volume has one of persistent, host or docker, not host and docker",
            "apps/web.yaml:12:7: spec.volumes[2]: a volume needs one of persistent, host or docker",
            "apps/web.yaml:14:18: spec.constraints[0].hostname: 'spread' is not a hostname rule (use hostname: unique, or attribute: hostname with equals, like or maxPer)",
            "apps/web.yaml:15:7: spec.constraints[1]: a constraint needs one of unique, equals, like or maxPer",
            "apps/web.yaml:16:31: spec.constraints[2].like: '(' is not a regular expression",
        ])
    }

    @Test func reportsDuplicateNamesAcrossFiles() {
        let set = ManifestLoader.load([
            ManifestFile(path: "a.yaml", text: header), ManifestFile(path: "b.yaml", text: "# b\n" + header),
            ManifestFile(path: "README.md", text: "not a manifest"),
        ])
        #expect(set.diagnostics.map(\.description) == [
            "b.yaml:5:9: metadata.name: duplicate name 'web': already defined at a.yaml:4:9"
        ])
    }

    @Test func reportsDanglingDependenciesAndCycles() {
        func app(_ name: String, _ deps: String) -> String {
            "apiVersion: capstan/v1\nkind: App\nmetadata: {name: \(name)}\nspec:\n  command: [x]\n  dependsOn: [\(deps)]\n"
        }
        let set = ManifestLoader.load([
            ManifestFile(path: "a.yaml", text: app("a", "b")), ManifestFile(path: "b.yaml", text: app("b", "a, db")),
        ])
        #expect(set.diagnostics.map(\.description) == [
            "b.yaml:6:15: spec.dependsOn[0]: dependency cycle: a -> b -> a",
            "b.yaml:6:18: spec.dependsOn[1]: 'db' is not an app or job in this repository",
        ])
    }

    @Test func collectsTheErrorsOfAllFiles() {
        let set = ManifestLoader.load([
            ManifestFile(path: "b.yaml", text: header + "  instances: x\n"),
            ManifestFile(path: "a.yaml", text: header.replacingOccurrences(of: "web", with: "api") + "  resources: {mem: 1XB}\n"),
        ])
        #expect(set.diagnostics.map(\.location.description) == ["a.yaml:7:20", "b.yaml:7:14"])
    }

    @Test func jobsHaveNoUpdateStrategy() {
        let yaml = header.replacingOccurrences(of: "kind: App", with: "kind: Job") + "  update: {maxSurge: 1}\n"
        #expect(diagnostics(yaml) == ["apps/web.yaml:7:3: spec.update: a Job has no update strategy (it runs once per spec change)"])
    }

    @Test func specHashIsStableUnderKeyOrderAndDefaults() throws {
        let a = """
            apiVersion: capstan/v1
            kind: App
            metadata: {name: web, labels: {team: shop, tier: web}}
            spec: {command: [/bin/true], resources: {cpus: 0.5, mem: 1Gi}, env: {A: "1", B: "2"}}
            """
        let b = """
            spec:
              env: {B: "2", A: "1"}
              resources: {mem: 1024, cpus: 0.5, disk: 0}
              instances: 1
              killGracePeriod: 5s
              update: {minHealthy: 100%, maxSurge: 1}
              command: [/bin/true]
            metadata: {labels: {tier: web, team: shop}, name: web}
            kind: App
            apiVersion: capstan/v1
            """
        let c = a.replacingOccurrences(of: "mem: 1Gi", with: "mem: 2Gi")
        func hash(_ yaml: String) throws -> String {
            let set = ManifestLoader.load([ManifestFile(path: "x.yaml", text: yaml)])
            #expect(set.diagnostics.isEmpty)
            return try #require(set.workloads.first).specHash
        }
        #expect(try hash(a) == hash(b))
        #expect(try hash(a) != hash(c))
    }

    @Test func theDemoRepositoryIsValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let set = try ManifestLoader.loadDirectory(root.appendingPathComponent("Manifests").path)
        #expect(set.diagnostics.map(\.description) == [])
        #expect(set.apps.map(\.name).contains("hello"))
    }

    @Test func loadsDirectoriesRecursivelyWithRelativeNames() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-manifest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("apps/.hidden"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try (header + "  instances: x\n").write(to: dir.appendingPathComponent("apps/web.yaml"), atomically: true, encoding: .utf8)
        try "not: [yaml".write(to: dir.appendingPathComponent("apps/.hidden/x.yaml"), atomically: true, encoding: .utf8)
        try "notes".write(to: dir.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        let set = try ManifestLoader.loadDirectory(dir.path, displayPrefix: "")
        #expect(set.diagnostics.map(\.description) == ["apps/web.yaml:7:14: spec.instances: expected an integer, got a string"])
    }
}
