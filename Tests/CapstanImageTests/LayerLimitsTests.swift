import CapstanCore
import CapstanImage
import Testing

@Suite("LayerLimits")
struct LayerLimitsTests {
    @Test func parsesSizesInBinaryUnitsAndRefusesTheRest() throws {
        #expect(try LayerLimits.parseSize("100") == 100)
        #expect(try LayerLimits.parseSize("100B") == 100)
        #expect(try LayerLimits.parseSize("16M") == 16 << 20)
        #expect(try LayerLimits.parseSize("16MiB") == 16 << 20)
        #expect(try LayerLimits.parseSize("4g") == 4 << 30)
        #expect(try LayerLimits.parseSize("8GiB") == 8 << 30)
        #expect(try LayerLimits.parseSize("2 TB") == 2 << 40)
        for bad in ["", "0", "-1", "1.5G", "lots", "4X", "99999999999T"] {
            #expect(throws: CapstanError.self, "\(bad)") { try LayerLimits.parseSize(bad) }
        }
        #expect(LayerLimits.describe(LayerLimits.defaultMaxLayerSize) == "8 GiB")
        #expect(LayerLimits.describe(16 << 20) == "16 MiB")
        #expect(LayerLimits.describe(1000) == "1000 B")
    }
}
