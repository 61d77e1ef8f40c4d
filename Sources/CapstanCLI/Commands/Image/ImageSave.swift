import ArgumentParser
import CapstanCore
import CapstanImage

/// `capstan image save NAME oci:DIR[:TAG]`.
struct ImageSave: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "save", abstract: "Write a stored image as an OCI image layout directory (oci:DIR[:TAG]).")

    @Argument(help: "The stored image.") var name: String
    @Argument(help: "The destination, oci:DIR[:TAG] (TAG defaults to latest).") var destination: String
    @OptionGroup var options: ImageOptions

    func run() async throws {
        guard case .ociLayout(let path, let tag) = try ImageReference(parsing: destination) else {
            throw ValidationError("the destination must be oci:DIR[:TAG]")
        }
        try await options.store().exportOCILayout(name, to: path, tag: tag ?? "latest")
        print("Saved \(name) to \(destination)")
    }
}
