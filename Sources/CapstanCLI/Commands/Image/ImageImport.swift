import ArgumentParser
import CapstanCore
import CapstanImage
import Foundation

/// `capstan image import SOURCE [NAME]`.
struct ImageImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a root file-system tarball as a single-layer image (like podman import), or an oci:, oci-archive: or docker-archive: image.")

    @Argument(help: "A rootfs tarball (plain, gzip or zstd), or an oci:/oci-archive:/docker-archive: reference.") var source: String
    @Argument(help: "The name to store it under (required for a tarball; an OCI layout or archive without one is named after its ref.name and its directory or file).") var name: String?
    @Option(parsing: .singleValue, help: "The image's command, one argument per use (Cmd).") var cmd: [String] = []
    @Option(parsing: .singleValue, help: "The image's entrypoint, one argument per use (Entrypoint).") var entrypoint: [String] = []
    @Option(parsing: .singleValue, help: "An environment variable NAME=VALUE (repeatable).") var env: [String] = []
    @Option(help: "The working directory.") var workdir: String?
    @Option(help: "The user to run as.") var user: String?
    @Option(parsing: .singleValue, help: "A label KEY=VALUE of the image config (repeatable), e.g. com.nvidia.volumes.needed=nvidia_driver.") var label: [String] = []
    @OptionGroup var options: ImageOptions

    func run() async throws {
        let store = try options.store()
        let record: ImageRecord
        if source.hasPrefix("oci:") || source.hasPrefix("oci-archive:") || source.hasPrefix("docker-archive:") {
            record = try await store.importImage(source, name: name)
        } else {
            guard let name else { throw ValidationError("give a NAME to import the rootfs tarball \(source) under") }
            let config = ImageConfig(
                entrypoint: entrypoint.isEmpty ? nil : entrypoint, cmd: cmd.isEmpty ? nil : cmd,
                env: env.isEmpty ? ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] : env,
                workingDir: workdir, user: user, labels: try labels())
            record = try await store.importRootfs(tarball: source, name: name, config: config)
        }
        print("Imported \(record.name)")
        print(record.manifest.description)
    }

    /// `--label` entries as a dictionary; nil when none is given.
    private func labels() throws -> [String: String]? {
        guard !label.isEmpty else { return nil }
        var labels: [String: String] = [:]
        for entry in label {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                throw ValidationError("--label '\(entry)' must be KEY=VALUE")
            }
            labels[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
        }
        return labels
    }
}
