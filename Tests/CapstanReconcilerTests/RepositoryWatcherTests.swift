import CapstanCore
import CapstanGit
import CapstanReconciler
import Foundation
import Testing

@Suite("RepositoryWatcher", .timeLimit(.minutes(2)))
struct RepositoryWatcherTests {
    /// The events a running watcher yielded so far.
    actor EventLog {
        private(set) var events: [RepositoryWatcher.Event] = []
        func append(_ event: RepositoryWatcher.Event) { events.append(event) }
        var commits: [CommitID] {
            events.compactMap { if case .commit(let commit) = $0 { commit } else { nil } }
        }
        var failures: [CapstanError] {
            events.compactMap { if case .failed(let error) = $0 { error } else { nil } }
        }
    }

    /// Runs the watcher and a consumer of its events while `body` runs, then stops it and checks that the stream finished.
    static func running<T: Sendable>(_ watcher: RepositoryWatcher, _ body: (EventLog) async throws -> T) async throws -> T {
        let log = EventLog()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await watcher.run() }
            group.addTask { for await event in watcher.events { await log.append(event) } }
            do {
                let result = try await body(log)
                await watcher.stop()
                try await group.waitForAll()
                return result
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }

    /// Polls `condition` every 20 ms until it holds or `timeout` passes.
    static func eventually(_ timeout: Duration = .seconds(10), _ condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return await condition()
    }

    static func source(_ repository: WatchedRepository) -> CountingSource {
        CountingSource(LibGit2Source(remote: GitRemote(url: repository.path), cachePath: repository.cachePath))
    }

    @Test func yieldsTheFirstCommitThenEachNewOne() async throws {
        try await WatchedRepository.with { repository in
            let first = try await repository.create()
            let watcher = RepositoryWatcher(source: Self.source(repository), revision: "main", interval: .milliseconds(100))
            try await Self.running(watcher) { log in
                #expect(await Self.eventually { await log.commits == [first] })
                let second = try await repository.commit("apps/db.yaml", "db: 1\n")
                #expect(await Self.eventually { await log.commits == [first, second] })
                #expect(await watcher.current == second)
            }
        }
    }

    @Test func pollsWithLsRemoteAndFetchesOnlyWhenTheBranchMoved() async throws {
        try await WatchedRepository.with { repository in
            try await repository.create()
            let source = Self.source(repository)
            let watcher = RepositoryWatcher(source: source, revision: "main", interval: .milliseconds(50))
            try await Self.running(watcher) { log in
                #expect(await Self.eventually { await log.commits.count == 1 })
                #expect(await Self.eventually { await source.remoteHeads >= 5 })
                #expect(await source.fetches == 1)
                let next = try await repository.commit("apps/web.yaml", "web: 2\n")
                #expect(await Self.eventually { await log.commits.last == next })
                #expect(await source.fetches == 2)
            }
        }
    }

    @Test func aTriggerFetchesAtOnce() async throws {
        try await WatchedRepository.with { repository in
            try await repository.create()
            let source = Self.source(repository)
            let watcher = RepositoryWatcher(source: source, revision: "main", interval: .seconds(3600))
            try await Self.running(watcher) { log in
                #expect(await Self.eventually { await log.commits.count == 1 })
                let next = try await repository.commit("apps/web.yaml", "web: 2\n")
                await watcher.trigger()
                #expect(await Self.eventually(.seconds(5)) { await log.commits.last == next })
                #expect(await source.remoteHeads == 0, "a trigger skips the ls-remote check")
            }
        }
    }

    @Test(arguments: ["v1", "full-commit"])
    func pinnedTagsAndCommitsResolveOnce(revision: String) async throws {
        try await WatchedRepository.with { repository in
            let first = try await repository.create()
            try await repository.git("tag", "v1")
            let source = Self.source(repository)
            let watcher = RepositoryWatcher(
                source: source, revision: revision == "v1" ? "v1" : first.hex, interval: .milliseconds(50))
            try await Self.running(watcher) { log in
                #expect(await Self.eventually { await log.commits == [first] })
                let second = try await repository.commit("apps/web.yaml", "web: 2\n")
                try await repository.git("tag", "-f", "v1", second.hex)
                await watcher.trigger()
                try await Task.sleep(for: .milliseconds(400))
                #expect(await log.commits == [first])
                #expect(await source.fetches == 1)
                #expect(await source.remoteHeads == 0)
            }
        }
    }

    @Test func failuresAreReportedAndPollingGoesOn() async throws {
        try await WatchedRepository.with { repository in
            // The remote does not exist yet.
            let watcher = RepositoryWatcher(source: Self.source(repository), revision: "main", interval: .milliseconds(50))
            try await Self.running(watcher) { log in
                #expect(await Self.eventually { await log.failures.count >= 2 })
                #expect(await log.failures.first?.message.contains(repository.path) == true)
                let first = try await repository.create()
                #expect(await Self.eventually { await log.commits == [first] })
                // A branch that disappears is a failure too, found by the cheap check.
                try await repository.git("checkout", "-q", "-b", "other")
                try await repository.git("branch", "-D", "main")
                let before = await log.failures.count
                #expect(await Self.eventually { await log.failures.count > before })
                #expect(await log.failures.last?.code == .notFound)
            }
        }
    }

    @Test func cancellingRunFinishesTheEvents() async throws {
        try await WatchedRepository.with { repository in
            try await repository.create()
            let watcher = RepositoryWatcher(source: Self.source(repository), revision: "HEAD", interval: .milliseconds(50))
            let runner = Task { await watcher.run() }
            var iterator = watcher.events.makeAsyncIterator()
            guard case .commit = await iterator.next() else {
                Issue.record("expected a first commit")
                runner.cancel()
                return
            }
            runner.cancel()
            await runner.value
            while let event = await iterator.next() {
                if case .failed(let error) = event { Issue.record("unexpected failure \(error)") }
            }
            // The loop reached here: the stream finished.
            #expect(await watcher.current != nil)
        }
    }
}
