import ArgumentParser
import CapstanCore
import CapstanImage

/// How far an image's layers may expand when they are checked and unpacked; shared by `capstan image pull` and
/// `import` (through ``RegistryFlags``), `capstan agent`, `capstan up` and `capstan container run`.
struct LayerLimitFlags: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The most one image layer may expand to (bytes, or with K, M, G or T, binary units); a layer past it is refused.",
        valueName: "size"))
    var maxLayerSize: String = LayerLimits.describe(LayerLimits.defaultMaxLayerSize).filter { $0 != " " }

    @Option(help: ArgumentHelp("The most all the layers of one image may expand to together.", valueName: "size"))
    var maxImageSize: String = LayerLimits.describe(LayerLimits.defaultMaxImageSize).filter { $0 != " " }

    /// The limits the flags describe.
    func limits() throws -> LayerLimits {
        LayerLimits(maxLayerSize: try Self.size(maxLayerSize, flag: "--max-layer-size"), maxImageSize: try Self.size(maxImageSize, flag: "--max-image-size"))
    }

    private static func size(_ text: String, flag: String) throws -> Int64 {
        do {
            return try LayerLimits.parseSize(text)
        } catch let error as CapstanError {
            throw ValidationError("\(flag): \(error.message)")
        }
    }
}
