import ArgumentParser
import CapstanCore
import CapstanImage
import Foundation

/// `capstan image ls`.
struct ImageList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List stored images.", aliases: ["list"])

    @Flag(help: "Print only names.") var quiet = false
    @Option(help: "text, or json: one object per image (name, manifest, layers, size, created, source).")
    var output: ReconcilerOutputFormat = .text
    @OptionGroup var options: ImageOptions

    struct Listed: Encodable {
        var name: String
        var manifest: String
        var layers: Int
        var size: Int64
        var created: Date
        var source: String
    }

    func run() async throws {
        let store = try options.store()
        let images = try await store.list()
        if quiet {
            for image in images { print(image.name) }
            return
        }
        if output == .json {
            var listed: [Listed] = []
            for image in images {
                // A manifest that cannot be read (its blob damaged) fails the listing with the blob's path, rather
                // than listing the image as one of no layers.
                let manifest = try await store.manifest(of: image)
                listed.append(Listed(
                    name: image.name, manifest: image.manifest.description, layers: manifest.layers.count,
                    size: manifest.layers.reduce(manifest.config.size) { $0 + $1.size }, created: image.created, source: image.source))
            }
            try output.write(listed) { "" }
            return
        }
        var rows = [["NAME", "DIGEST", "LAYERS", "SIZE", "CREATED"]]
        let formatter = ISO8601DateFormatter()
        for image in images {
            let manifest = try await store.manifest(of: image)
            let size = manifest.layers.reduce(manifest.config.size) { $0 + $1.size }
            rows.append([
                image.name, image.manifest.short, "\(manifest.layers.count)", humanBytes(size), formatter.string(from: image.created),
            ])
        }
        let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
    }
}
