import ArgumentParser
import CapstanCore
import CapstanImage

/// `capstan image rm NAME…`.
struct ImageRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm", abstract: "Remove image names; their content goes at the next image prune.", aliases: ["remove"])

    @Argument(help: "Image names.") var names: [String]
    @OptionGroup var options: ImageOptions

    func run() async throws {
        guard !names.isEmpty else { throw ValidationError("name at least one image to remove") }
        let store = try options.store()
        for name in names {
            try await store.remove(name)
            print("Removed \(name)")
        }
    }
}
