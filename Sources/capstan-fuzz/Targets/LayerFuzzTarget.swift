import CapstanCore
import CapstanImage
import Foundation
import Logging

/// The layer unpacker on mutated tar and tar.gz archives, unpacked into a fresh directory each time with a
/// whiteout mode the input picks. Invariants: nothing appears beside the unpack directory, nothing at
/// `/tmp/capstan-fuzz-escape` (where the corpus' escaping entries point), and the sentinel file the corpus'
/// hard links and symlinks name keeps its content and its single link.
final class LayerFuzzTarget: FuzzTarget {
    static let escape = "/tmp/capstan-fuzz-escape"
    static let sentinelDirectory = "/tmp/capstan-fuzz-sentinel"
    static let victim = sentinelDirectory + "/victim"
    static let victimText = Data("the layer unpacker must never write here\n".utf8)

    let maximumLength = 256 << 10
    let dictionary = TarHeaders.names + TarHeaders.links
    private let work: String
    private let unpacker = LayerUnpacker(logger: Logger(label: "capstan.fuzz.layer", factory: { _ in SwiftLogNoOpLogHandler() }))

    /// Unpacks under `scratch`, which the caller removes.
    init(scratch: String) throws {
        work = scratch + "/layer"
        let files = FileManager.default
        try files.createDirectory(atPath: work, withIntermediateDirectories: true)
        try files.createDirectory(atPath: Self.sentinelDirectory, withIntermediateDirectories: true)
        try Self.victimText.write(to: URL(fileURLWithPath: Self.victim))
        try? files.removeItem(atPath: Self.escape)
    }

    func mutate(_ input: inout [UInt8], using random: inout SplitMix64) -> Bool {
        TarHeaders.mutate(&input, using: &random)
    }

    func run(_ input: [UInt8]) throws(FuzzFinding) {
        let modes: [LayerUnpacker.WhiteoutMode] = [.apply, .overlay, .markers]
        let mode = modes[input.count % modes.count]
        let archive = TarHeaders.fixChecksums(input)
        try unpackAndCheck(archive, file: "layer.tar", mode: mode)
        if !input.starts(with: [0x1F, 0x8B]) {
            try unpackAndCheck(Gzip.stored(archive), file: "layer.tar.gz", mode: mode)
        }
    }

    private func unpackAndCheck(_ bytes: [UInt8], file: String, mode: LayerUnpacker.WhiteoutMode) throws(FuzzFinding) {
        let files = FileManager.default
        let root = work + "/root"
        let archive = work + "/" + file
        do {
            try files.createDirectory(atPath: root, withIntermediateDirectories: false)
            try Data(bytes).write(to: URL(fileURLWithPath: archive))
        } catch {
            throw FuzzFinding("cannot prepare the unpack directory: \(error)")
        }
        _ = try? unpacker.unpack(archive: archive, into: root, whiteouts: mode)

        let beside = ((try? files.contentsOfDirectory(atPath: work)) ?? []).sorted()
        guard beside == [file, "root"].sorted() else {
            throw FuzzFinding("unpacking wrote beside its directory: \(beside)")
        }
        var status = stat()
        if lstat(Self.escape, &status) == 0 {
            throw FuzzFinding("unpacking created \(Self.escape)")
        }
        guard stat(Self.victim, &status) == 0, status.st_nlink == 1,
            (try? Data(contentsOf: URL(fileURLWithPath: Self.victim))) == Self.victimText,
            (try? files.contentsOfDirectory(atPath: Self.sentinelDirectory)) == ["victim"]
        else {
            throw FuzzFinding("unpacking changed \(Self.sentinelDirectory) (a hard link, a write or a new file)")
        }
        do {
            try files.removeItem(atPath: root)
            try files.removeItem(atPath: archive)
        } catch {
            throw FuzzFinding("cannot remove what was unpacked: \(error)")
        }
    }
}
