import ArgumentParser
import CapstanCore
import CapstanManifest
import Foundation

/// `capstan validate [PATH]` and `capstan validate --repo R --revision REV --path SUBDIR`.
struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check app manifests: every error as file:line:column, then a one-line summary.",
        discussion: """
            Reads every *.yaml and *.yml file under PATH (default: the current directory), or, with --repo, \
            under --path in a git repository at --revision, read through libgit2 without a checkout. \
            Documents that are not Capstan manifests (an apiVersion that is not capstan/…, or neither apiVersion \
            nor kind) are listed as skipped, not errors. Exits 0 when the manifests are valid and 1 when there is any error.
            """)

    @Argument(help: "A directory (or one file) of manifests on disk.")
    var path: String?

    @Option(help: "A git repository to read instead: a local path or file:// URL.")
    var repo: String?

    @Option(help: "With --repo: a branch, tag or commit.")
    var revision: String = "HEAD"

    @Option(name: .customLong("path"), help: "With --repo: the directory inside the repository.")
    var subPath: String = ""

    @Flag(help: "Print the JSON Schema of the manifest format and exit.")
    var printSchema = false

    @Option(help: "text, or json: {valid, apps, jobs, workloads, errors (file, line, column, field, message), skipped}.")
    var output: ReconcilerOutputFormat = .text

    func validate() throws {
        if repo != nil && path != nil { throw ValidationError("give either PATH or --repo, not both") }
    }

    func run() async throws {
        if printSchema {
            FileHandle.standardOutput.write(Data(ManifestSchema.json.utf8))
            return
        }
        let set: ManifestSet
        do {
            if let repo {
                set = try await Validate.loadFromGit(repo: repo, revision: revision, subPath: subPath)
            } else {
                set = try ManifestLoader.loadDirectory(path ?? ".")
            }
        } catch {
            FileHandle.standardError.write(Data("capstan validate: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if output == .json {
            try output.write(ValidateReport(set)) { "" }
            if !set.isValid { throw ExitCode(1) }
            return
        }
        // Other tools' YAML (apiVersion not capstan/…, or neither apiVersion nor kind) is listed, never an error.
        for document in set.skipped { Console.line(document.description) }
        for diagnostic in set.diagnostics { Console.line(diagnostic.description) }
        if set.isValid {
            Console.line("valid: \(set.summary)")
        } else {
            let count = set.diagnostics.count
            let files = Set(set.diagnostics.map(\.file)).count
            Console.line("\(count) error\(count == 1 ? "" : "s") in \(files) file\(files == 1 ? "" : "s") (valid: \(set.summary))")
            throw ExitCode(1)
        }
    }
}
