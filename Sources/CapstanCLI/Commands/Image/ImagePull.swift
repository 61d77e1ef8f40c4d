import ArgumentParser
import CapstanCore
import CapstanImage
import Foundation
import Synchronization

/// `capstan image pull REFERENCE`.
struct ImagePull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull", abstract: "Pull an image from a registry (docker://HOST/REPO:TAG or a Docker Hub short name).")

    @Argument(help: "The image reference.") var reference: String
    @Flag(help: "Print no progress.") var quiet = false
    @OptionGroup var options: ImageOptions

    func run() async throws {
        let store = try options.store(for: reference)
        let display = ProgressDisplay(enabled: !quiet && isatty(STDOUT_FILENO) == 1)
        let record = try await store.pull(reference) { event in display.handle(event) }
        display.finish()
        if !quiet { print("Pulled \(record.name)") }
        print(record.manifest.description)
    }
}

/// Per-blob download progress, redrawn on one terminal line.
final class ProgressDisplay: Sendable {
    let enabled: Bool
    private let state = Mutex<(sizes: [Digest: Int64], done: [Digest: Int64], lastDraw: ContinuousClock.Instant?)>(([:], [:], nil))

    init(enabled: Bool) { self.enabled = enabled }

    func handle(_ event: ImageStore.PullEvent) {
        guard enabled else { return }
        let line: String? = state.withLock { state in
            switch event {
            case .resolved(_, let blobs):
                for blob in blobs { state.sizes[blob.digest] = blob.size }
            case .progress(let digest, let downloaded, _):
                state.done[digest] = downloaded
                let now = ContinuousClock.now
                if let last = state.lastDraw, now - last < .milliseconds(100) { return nil }
                state.lastDraw = now
            case .stored(let digest, _):
                state.done[digest] = state.sizes[digest] ?? 0
            }
            let total = state.sizes.values.reduce(0, +)
            let done = state.done.values.reduce(0, +)
            let complete = state.sizes.keys.filter { state.done[$0] == state.sizes[$0] }.count
            return "\r\u{1B}[K\(complete)/\(state.sizes.count) blobs  \(humanBytes(done)) / \(humanBytes(total))"
        }
        if let line {
            FileHandle.standardOutput.write(Data(line.utf8))
        }
    }

    func finish() {
        if enabled { FileHandle.standardOutput.write(Data("\n".utf8)) }
    }
}
