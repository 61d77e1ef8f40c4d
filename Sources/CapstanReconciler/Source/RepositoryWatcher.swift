import CapstanCore
import CapstanGit
import Foundation
import Logging

/// Watches a git repository and reports each new commit of a revision.
///
/// ``run()`` polls every `interval`: a branch (or `HEAD`) is first checked with the cheap
/// ``GitSource/remoteHead(ref:)`` (ls-remote), and fetched only when it moved; ``trigger()`` (the
/// webhook) fetches at once. A full commit name or a tag is pinned: resolved once, then never polled
/// again. Each newly resolved commit is yielded on ``events`` as `.commit`; a failure (an unreachable
/// remote, a branch that vanished) is yielded as `.failed` and polling goes on. `run()` returns when its
/// task is cancelled or ``stop()`` is called, and then ``events`` finishes.
public actor RepositoryWatcher {
    public enum Event: Sendable, Equatable {
        /// The revision now resolves to this commit (the first one, then each change).
        case commit(CommitID)
        /// A poll or fetch failed; the watcher retries at the next interval or trigger.
        case failed(CapstanError)
    }

    /// What a revision is, decided after the first fetch.
    enum Tracking: Equatable {
        /// A branch or `HEAD`, followed with ls-remote of this ref.
        case ref(String)
        /// A commit or tag: resolved once.
        case pinned
        /// A revision expression (`main~1`): fetched and resolved every interval.
        case expression
    }

    public nonisolated let source: any GitSource
    public nonisolated let revision: String
    public nonisolated let interval: Duration
    /// Each new commit and each failure. Buffers the newest 32 events for a slow consumer.
    public nonisolated let events: AsyncStream<Event>

    /// The commit last yielded.
    public private(set) var current: CommitID?
    /// How many fetches ran (for tests and metrics).
    public private(set) var fetchCount = 0

    private let clock: any Clock<Duration>
    private let logger: Logger
    private let eventContinuation: AsyncStream<Event>.Continuation
    private let wakes: AsyncStream<Void>
    private let wakeContinuation: AsyncStream<Void>.Continuation
    private var triggered = true  // the first round fetches
    private var tracking: Tracking?
    private var failing = false

    public init(
        source: any GitSource, revision: String, interval: Duration, clock: any Clock<Duration> = ContinuousClock(),
        logger: Logger = Logger(label: "capstan.reconciler.git")
    ) {
        self.source = source
        self.revision = revision
        self.interval = interval
        self.clock = clock
        self.logger = logger
        (events, eventContinuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(32))
        (wakes, wakeContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Polls until the task is cancelled or ``stop()`` is called, then finishes ``events``.
    public func run() async {
        defer { eventContinuation.finish() }
        let (clock, interval, wakeContinuation) = (self.clock, self.interval, self.wakeContinuation)
        await withTaskGroup(of: Void.self) { group in
            // The ticker: one wake per interval (wakes coalesce while a poll runs).
            group.addTask {
                while true {
                    do { try await clock.sleep(for: interval) } catch { return }
                    wakeContinuation.yield()
                }
            }
            wakeContinuation.yield()
            for await _ in wakes {
                if Task.isCancelled { break }
                let force = triggered
                triggered = false
                await poll(force: force)
            }
            group.cancelAll()
        }
    }

    /// Fetches at the next opportunity (now, unless a poll is running), skipping the ls-remote check.
    public func trigger() {
        triggered = true
        wakeContinuation.yield()
    }

    /// Ends ``run()`` after the poll in progress, if any.
    public func stop() {
        wakeContinuation.finish()
    }

    // MARK: Polling

    private func poll(force: Bool) async {
        do {
            if let current, let tracking {
                switch tracking {
                case .pinned:
                    return
                case .ref(let ref) where !force:
                    guard let head = try await source.remoteHead(ref: ref) else {
                        throw CapstanError(.notFound, "\(source.remote): the remote has no '\(ref)' any more")
                    }
                    if head == current {
                        recovered()
                        return
                    }
                case .ref, .expression:
                    break
                }
            }
            try await source.fetch()
            fetchCount += 1
            let commit = try await source.resolve(revision)
            if tracking == nil { tracking = await classify() }
            recovered()
            if commit != current {
                logger.info("New commit", metadata: ["commit": "\(commit.short)", "revision": "\(revision)"])
                current = commit
                eventContinuation.yield(.commit(commit))
            }
        } catch {
            let failure = error as? CapstanError
                ?? CapstanError(.unavailable, "\(source.remote): cannot poll '\(revision)'", cause: error)
            if !failing {
                logger.warning("Git poll failed; retrying every \(interval)", metadata: ["error": "\(failure)"])
                failing = true
            }
            eventContinuation.yield(.failed(failure))
        }
    }

    private func recovered() {
        if failing {
            logger.info("Git poll works again", metadata: ["revision": "\(revision)"])
            failing = false
        }
    }

    /// Branch, tag, commit or expression, from the fetched cache.
    private func classify() async -> Tracking {
        let name = revision.trimmingCharacters(in: .whitespaces)
        if CommitID.isFullHex(name) || name.hasPrefix("refs/tags/") { return .pinned }
        if name == "HEAD" { return .ref("HEAD") }
        if name.hasPrefix("refs/heads/") { return .ref(name) }
        if name.hasPrefix("refs/") { return .expression }
        if (try? await source.resolve("refs/remotes/origin/\(name)")) != nil { return .ref("refs/heads/\(name)") }
        if (try? await source.resolve("refs/tags/\(name)")) != nil { return .pinned }
        // An abbreviated commit name is pinned too; anything else is re-resolved each round.
        if name.count >= 4, name.allSatisfy(\.isHexDigit) { return .pinned }
        return .expression
    }
}
