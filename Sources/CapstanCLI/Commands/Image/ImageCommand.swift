import ArgumentParser
import CapstanCore
import CapstanImage
import Foundation
import Logging

/// `capstan image …`: the daemonless image store, like `podman image`.
struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Pull, import, list and remove container images in the local store (<work-dir>/images).",
        discussion: """
            References: docker://HOST[:PORT]/REPO[:TAG|@sha256:…] or a Docker Hub short name, oci:PATH[:TAG], \
            oci-archive:PATH[:TAG], docker-archive:PATH[:NAME:TAG].
            """,
        subcommands: [ImagePull.self, ImageImport.self, ImageList.self, ImageRemove.self, ImagePrune.self, ImageSave.self])
}

/// Options every `image` subcommand takes.
struct ImageOptions: ParsableArguments {
    @Option(help: "Capstan's work directory; images live under <work-dir>/images.")
    var workDir: String = ".capstan"

    @Option(help: "Log level on stderr: trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "warning"

    @OptionGroup var registry: RegistryFlags

    @Option(help: "Registry credentials USER:PASSWORD (otherwise read from --registry-config or the default auth files).")
    var creds: String?

    func logger() throws -> Logger {
        guard let level = Logger.Level(rawValue: logLevel.lowercased()) else {
            throw ValidationError("--log-level '\(logLevel)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        var logger = Logger(label: "capstan.image") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = level
        return logger
    }

    func store(for reference: String? = nil) throws -> ImageStore {
        var options = try registry.options()
        if let creds, let reference, case .registry(let registry)? = try? ImageReference(parsing: reference) {
            options.credentials[registry.host] = try RegistryCredentials(parsing: creds)
        }
        let root = URL(fileURLWithPath: workDir).standardizedFileURL.path + "/images"
        return try ImageStore(root: root, options: options, limits: try registry.layerLimits.limits(), logger: try logger())
    }
}

/// Byte counts as people read them.
func humanBytes(_ bytes: Int64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1000 && unit < units.count - 1 {
        value /= 1000
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}
