import CapstanCore
import CapstanGit
import CapstanManifest
import CapstanReconciler
import Foundation
import Testing

@Suite("DesiredStateLoader", .serialized)
struct DesiredStateLoaderTests {
    static func app(_ name: String, env: String = "dev") -> String {
        """
        apiVersion: capstan/v1
        kind: App
        metadata: {name: \(name)}
        spec:
          command: [/bin/sleep, "60"]
          env: {MODE: \(env)}

        """
    }

    static func loader(_ repository: WatchedRepository, path: String = "deploy") async throws -> DesiredStateLoader {
        let source = LibGit2Source(remote: GitRemote(url: repository.path), cachePath: repository.cachePath)
        try await source.fetch()
        return DesiredStateLoader(source: source, path: path)
    }

    @Test func loadsTheWorkloadsUnderThePathAtARevision() async throws {
        try await WatchedRepository.with { repository in
            try await repository.create()
            try await repository.commit("deploy/web.yaml", Self.app("web"))
            let head = try await repository.commit("deploy/api.yml", Self.app("api"))
            try await repository.commit("elsewhere/db.yaml", Self.app("db"))
            let loaded = try await Self.loader(repository).load(revision: head.hex)
            #expect(loaded.commit == head)
            let state = try #require(loaded.desiredState)
            #expect(state.commit == head)
            #expect(state.commitLabel == head.short)
            #expect(state.workloads.map(\.name) == ["api", "web"], "files in path order; other directories ignored")
        }
    }

    @Test func invalidManifestsGiveDiagnosticsAndNoDesiredState() async throws {
        try await WatchedRepository.with { repository in
            try await repository.create()
            let head = try await repository.commit("deploy/web.yaml", Self.app("web").replacingOccurrences(of: "env:", with: "envv:"))
            let loaded = try await Self.loader(repository).load(commit: head)
            #expect(loaded.desiredState == nil)
            #expect(loaded.manifests.diagnostics.map(\.description).first?.hasPrefix("deploy/web.yaml:6:3: ") == true)
        }
    }

    /// Issue 9, item 6: a committed manifest nested 5,000 levels crashed the reconciler on every load.
    @Test func aDeeplyNestedManifestIsADiagnosticNotACrash() async throws {
        try await WatchedRepository.with { repository in
            try await repository.create()
            try await repository.commit("deploy/web.yaml", Self.app("web"))
            let deep = String(repeating: "{a: ", count: 5000) + "1" + String(repeating: "}", count: 5000) + "\n"
            let head = try await repository.commit("deploy/deep.yaml", deep)
            let loaded = try await Self.loader(repository).load(commit: head)
            #expect(loaded.desiredState == nil)
            #expect(loaded.manifests.diagnostics.map(\.description) == [
                "deploy/deep.yaml:1:257: this mapping is nested more than 64 levels deep (the limit); manifests are never that deep"
            ])
        }
    }

    @Test func unchangedFilesAreNotParsedAgain() async throws {
        try await WatchedRepository.with { repository in
            try await repository.create()
            try await repository.commit("deploy/web.yaml", Self.app("web"))
            let first = try await repository.commit("deploy/api.yaml", Self.app("api"))
            let second = try await repository.commit("deploy/api.yaml", Self.app("api", env: "prod"))
            let loader = try await Self.loader(repository)
            _ = try await loader.load(commit: first)
            #expect(await loader.parsedFiles == 2)
            let loaded = try await loader.load(commit: second)
            #expect(await loader.parsedFiles == 3, "web.yaml has the same blob: only api.yaml is parsed")
            #expect(loaded.desiredState?.workload(named: "api")?.spec.env["MODE"] == "prod")
            _ = try await loader.load(commit: first)
            #expect(await loader.parsedFiles == 3, "both blobs of the first commit are still cached")
        }
    }

    /// Issue 10: a blob is parsed once however many paths hold it, and each copy's positions name its own path.
    @Test func aBlobAtTwoPathsIsParsedOnceAndReportedAtEachPath() async throws {
        try await WatchedRepository.with { repository in
            try await repository.create()
            try await repository.commit("deploy/a.yaml", Self.app("web"))
            let head = try await repository.commit("deploy/b.yaml", Self.app("web"))
            let loader = try await Self.loader(repository)
            let loaded = try await loader.load(commit: head)
            #expect(await loader.parsedFiles == 1, "one blob, two paths")
            #expect(loaded.manifests.entries.map(\.nameLocation.description) == ["deploy/a.yaml:3:18", "deploy/b.yaml:3:18"])
            #expect(loaded.manifests.diagnostics.map(\.description) == [
                "deploy/b.yaml:3:18: metadata.name: duplicate name 'web': already defined at deploy/a.yaml:3:18"
            ])
        }
    }

    /// Issue 10: a renamed file keeps its blob, so the next commit reads and parses nothing again.
    @Test func aRenamedFileIsNeitherReadNorParsedAgain() async throws {
        try await WatchedRepository.with { repository in
            try await repository.create()
            let bad = Self.app("web").replacingOccurrences(of: "env:", with: "envv:")
            try await repository.commit("deploy/api.yaml", Self.app("api"))
            let first = try await repository.commit("deploy/web.yaml", bad)
            try FileManager.default.createDirectory(atPath: repository.path + "/deploy/site", withIntermediateDirectories: true)
            try await repository.git("mv", "deploy/web.yaml", "deploy/site/web.yaml")
            try await repository.git("commit", "-q", "-m", "rename")
            let second = CommitID(hex: try await repository.git("rev-parse", "HEAD"))
            let source = CountingSource(LibGit2Source(remote: GitRemote(url: repository.path), cachePath: repository.cachePath))
            try await source.fetch()
            let loader = DesiredStateLoader(source: source, path: "deploy")
            _ = try await loader.load(commit: first)
            #expect(await source.blobReads.map(\.count) == [2])
            let loaded = try await loader.load(commit: second)
            #expect(await source.blobReads.map(\.count) == [2], "no blob read for the second commit")
            #expect(await loader.parsedFiles == 2)
            #expect(loaded.manifests.diagnostics.map(\.description).first?.hasPrefix("deploy/site/web.yaml:6:3: ") == true)
        }
    }

    /// Issue 10: files decode in parallel, and the set is the one ``ManifestLoader`` makes file by file.
    @Test(arguments: [1, 2, 7])
    func parallelDecodingGivesTheSetOfASerialLoad(parallelism: Int) async throws {
        try await WatchedRepository.with { repository in
            try await repository.create()
            try FileManager.default.createDirectory(atPath: repository.path + "/deploy", withIntermediateDirectories: true)
            var files: [ManifestFile] = []
            for index in 0..<40 {
                let path = "deploy/app-\(index).yaml"
                var text = Self.app("app-\(index)", env: "e\(index)")
                if index % 9 == 4 { text = text.replacingOccurrences(of: "env:", with: "envv:") }
                if index % 13 == 5 { text = Self.app("app-0") }  // three files with one blob: duplicate names
                files.append(ManifestFile(path: path, text: text))
                try text.write(toFile: repository.path + "/" + path, atomically: true, encoding: .utf8)
            }
            try await repository.git("add", "-A")
            try await repository.git("commit", "-q", "-m", "forty apps")
            let head = CommitID(hex: try await repository.git("rev-parse", "HEAD"))
            let source = LibGit2Source(remote: GitRemote(url: repository.path), cachePath: repository.cachePath)
            try await source.fetch()
            let loader = DesiredStateLoader(source: source, path: "deploy", parallelism: parallelism)
            let loaded = try await loader.load(commit: head)
            let serial = ManifestLoader.load(files)
            #expect(!serial.isValid)
            #expect(loaded.manifests.entries == serial.entries)
            #expect(loaded.manifests.diagnostics == serial.diagnostics)
            #expect(await loader.parsedFiles == 38, "40 files, 38 distinct blobs")
        }
    }

    @Test func runningSpecsAreReadAtTheCommitsTheTasksCarry() async throws {
        try await WatchedRepository.with { repository in
            try await repository.create()
            let old = try await repository.commit("deploy/web.yaml", Self.app("web"))
            let new = try await repository.commit("deploy/web.yaml", Self.app("web", env: "prod"))
            let loader = try await Self.loader(repository)
            func task(_ commit: String) -> ObservedTask {
                ObservedTask(taskID: TaskID(commit), app: "web", templateLabel: "x", commit: commit, phase: .running, agentID: "a")
            }
            let snapshot = ClusterSnapshot(tasks: [task(old.short), task(new.short), task("0000000000aa"), task("")])
            let specs = await loader.runningSpecs(for: snapshot)
            #expect(specs.map(\.commit).sorted() == [old, new].sorted(), "an unknown commit is skipped")
            #expect(specs.first { $0.commit == old }?.workload(named: "web")?.spec.env["MODE"] == "dev")
        }
    }

    @Test func aMissingPathIsNotFound() async throws {
        try await WatchedRepository.with { repository in
            let head = try await repository.create()
            let loader = try await Self.loader(repository, path: "nope")
            let error = await #expect(throws: CapstanError.self) { try await loader.load(commit: head) }
            #expect(error?.code == .notFound)
        }
    }
}
