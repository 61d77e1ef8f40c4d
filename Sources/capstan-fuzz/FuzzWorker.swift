import ArgumentParser
import Foundation

/// The child `run` starts: feeds the corpus, then mutated inputs, to one target until its time is up. Before
/// each input runs, it is written to `--current`, so whoever sees this process die knows what killed it.
struct FuzzWorker: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Run inputs in this process (started by `run`).", shouldDisplay: false)

    @Option var target: String
    @Option var seed: UInt64
    @Option var seconds: Double
    @Option var corpus: String
    @Option(help: "The file each input is written to before it runs.") var current: String
    @Option(help: "The file the execution count is written to.") var status: String
    @Option(help: "A directory the target may use.") var scratch: String
    @Flag(help: "Run the corpus entries first, unchanged.") var corpusFirst = false

    func run() throws {
        let fuzzTarget = try FuzzTargets.make(target, scratch: scratch)
        let seeds = try FuzzCorpus.load(corpus)
        let mutator = Mutator(corpus: seeds, dictionary: fuzzTarget.dictionary, maximumLength: fuzzTarget.maximumLength)
        var random = SplitMix64(seed: seed)
        let fd = open(current, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ValidationError("cannot open \(current): \(String(cString: strerror(errno)))") }
        defer { close(fd) }

        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int(seconds * 1000))
        var executions = 0
        var lastStatus = clock.now
        var pending = corpusFirst ? seeds : []
        pending.reverse()
        while clock.now < deadline {
            let input = pending.popLast() ?? mutator.next(using: &random, target: fuzzTarget)
            record(input, fd: fd)
            do {
                try fuzzTarget.run(input)
            } catch {
                FileHandle.standardError.write(Data("capstan-fuzz: \(target): \(error.description)\n".utf8))
                writeStatus(executions + 1)
                Foundation.exit(3)
            }
            executions += 1
            if clock.now - lastStatus > .seconds(1) {
                writeStatus(executions)
                lastStatus = clock.now
            }
        }
        writeStatus(executions)
    }

    /// Writes the input over the current-input file (its modification time is also the worker's heartbeat).
    private func record(_ input: [UInt8], fd: Int32) {
        _ = input.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        _ = ftruncate(fd, off_t(input.count))
    }

    private func writeStatus(_ executions: Int) {
        try? Data("\(executions)\n".utf8).write(to: URL(fileURLWithPath: status), options: .atomic)
    }
}
