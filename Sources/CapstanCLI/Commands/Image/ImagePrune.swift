import ArgumentParser
import CapstanCore
import CapstanImage

/// `capstan image prune`.
struct ImagePrune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune", abstract: "Remove blobs and unpacked layers that no stored image uses.")

    @OptionGroup var options: ImageOptions

    func run() async throws {
        let report = try await options.store().prune()
        print("Removed \(report.blobs.count) blobs (\(humanBytes(report.bytes))) and \(report.layers.count) unpacked layers")
    }
}
