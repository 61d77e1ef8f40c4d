import ArgumentParser

/// `capstan-fuzz`: a seeded random-input and mutation fuzzer for Capstan's parsers (manifests, Mesos JSON,
/// RecordIO, image layers). `run` supervises a worker process, so a crash never loses the input that caused it.
@main
struct CapstanFuzz: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capstan-fuzz",
        abstract: "Fuzz Capstan's parsers with seeded random and mutated inputs.",
        subcommands: [FuzzRun.self, FuzzExec.self, FuzzWorker.self])
}
