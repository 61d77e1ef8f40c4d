import CapstanCore
import Foundation

/// One manifest file's path (as shown in diagnostics, e.g. `apps/web.yaml`) and its bytes.
public struct ManifestFile: Sendable, Hashable {
    public var path: String
    public var contents: Data

    public init(path: String, contents: Data) {
        self.path = path
        self.contents = contents
    }

    public init(path: String, text: String) {
        self.init(path: path, contents: Data(text.utf8))
    }
}

/// Loads manifests: every `*.yaml`/`*.yml` file, several documents per file, composed from libyaml events
/// into the Core model. All problems of all files are collected into the returned ``ManifestSet``.
public enum ManifestLoader {
    /// Whether a path names a manifest file (`.yaml` or `.yml`).
    public static func isManifestPath(_ path: String) -> Bool {
        path.hasSuffix(".yaml") || path.hasSuffix(".yml")
    }

    /// Decodes `files` (manifest or not: other paths are skipped) and runs the repository-wide checks.
    public static func load(_ files: [ManifestFile], limits: ManifestLimits = .default) -> ManifestSet {
        var entries: [ManifestEntry] = []
        var diagnostics: [ManifestDiagnostic] = []
        var skipped: [SkippedDocument] = []
        for file in files.sorted(by: { $0.path < $1.path }) where isManifestPath(file.path) {
            let decoded = decodeFile(file, limits: limits)
            entries += decoded.entries
            diagnostics += decoded.diagnostics
            skipped += decoded.skipped
        }
        return ManifestSet(entries: entries, diagnostics: diagnostics, skipped: skipped)
    }

    /// What one file decodes to: its manifests, its problems, and the documents that are not Capstan manifests.
    public struct DecodedFile: Sendable {
        public var entries: [ManifestEntry]
        public var diagnostics: [ManifestDiagnostic]
        public var skipped: [SkippedDocument]
    }

    /// Decodes the documents of one file; documents that are not Capstan manifests (``SkippedDocument``) are skipped.
    public static func decode(
        _ file: ManifestFile, limits: ManifestLimits = .default
    ) -> (entries: [ManifestEntry], diagnostics: [ManifestDiagnostic]) {
        let decoded = decodeFile(file, limits: limits)
        return (decoded.entries, decoded.diagnostics)
    }

    /// Decodes the documents of one file. A file beyond `limits` gets one diagnostic where it crosses
    /// the limit and is not decoded further.
    public static func decodeFile(_ file: ManifestFile, limits: ManifestLimits = .default) -> DecodedFile {
        let (entries, diagnostics, skipped) = decodeDocuments(file, limits: limits)
        return DecodedFile(entries: entries, diagnostics: diagnostics, skipped: skipped)
    }

    static func decodeDocuments(
        _ file: ManifestFile, limits: ManifestLimits
    ) -> ([ManifestEntry], [ManifestDiagnostic], [SkippedDocument]) {
        let reader = NodeReader(file: file.path)
        if file.contents.count > limits.maximumFileBytes {
            let (line, column) = position(ofByte: limits.maximumFileBytes, in: file.contents)
            reader.report(
                line: line, column: column,
                "the file is larger than \(describeBytes(limits.maximumFileBytes)), the limit for one manifest file; split it")
            return ([], reader.diagnostics, [])
        }
        let isUTF8 = file.contents.withUnsafeBytes { String(validating: $0.bindMemory(to: UInt8.self), as: UTF8.self) != nil }
        guard isUTF8 else {
            reader.report(nil, "", "not UTF-8 text")
            return ([], reader.diagnostics, [])
        }
        let outcome = file.contents.withUnsafeBytes { YAMLComposer(limits: limits).compose($0) }
        switch outcome {
        case .overLimit(let violation):
            reader.report(line: violation.line, column: violation.column, violation.message)
            return ([], reader.diagnostics, [])
        case .composed(let documents, let syntaxError):
            let decoder = WorkloadDecoder(reader: reader)
            var skipped: [SkippedDocument] = []
            let entries = documents.compactMap { document -> ManifestEntry? in
                if let foreign = decoder.foreign(document) {
                    skipped.append(foreign)
                    return nil
                }
                return decoder.decode(document)
            }
            if let syntaxError { reader.report(syntaxError.mark, "", syntaxError.message) }
            return (entries, reader.diagnostics, skipped)
        }
    }

    /// The 1-based line and column (in characters) of byte `offset` of `data`.
    static func position(ofByte offset: Int, in data: Data) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for byte in data.prefix(offset) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {  // not a UTF-8 continuation byte
                column += 1
            }
        }
        return (line, column)
    }

    /// `1 MiB (1048576 bytes)`.
    static func describeBytes(_ count: Int) -> String {
        count >= 1 << 20 && count % (1 << 20) == 0 ? "\(count >> 20) MiB (\(count) bytes)" : "\(count) bytes"
    }

    /// Loads every manifest file under `directory` (recursively; hidden files and directories are
    /// skipped), or the one file `directory` names. Diagnostics name each file as `prefix` joined
    /// with its path relative to `directory`; `prefix` defaults to `directory` itself (nothing for `.`).
    /// A file larger than `limits` allows is read only up to the limit (and reported).
    public static func loadDirectory(
        _ directory: String, displayPrefix: String? = nil, limits: ManifestLimits = .default
    ) throws -> ManifestSet {
        let prefix = displayPrefix ?? (directory == "." ? "" : directory)
        func display(_ relative: String) -> String {
            prefix.isEmpty ? relative : (prefix.hasSuffix("/") ? prefix + relative : prefix + "/" + relative)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw CapstanError(.notFound, "\(directory): no such file or directory")
        }
        if !isDirectory.boolValue {
            let data = try readPrefix(directory, count: limits.maximumFileBytes + 1)
            let decoded = decodeFile(ManifestFile(path: displayPrefix ?? directory, contents: data), limits: limits)
            return ManifestSet(entries: decoded.entries, diagnostics: decoded.diagnostics, skipped: decoded.skipped)
        }
        var files: [ManifestFile] = []
        for relative in try manifestPaths(under: directory) {
            let data = try readPrefix(directory + "/" + relative, count: limits.maximumFileBytes + 1)
            files.append(ManifestFile(path: display(relative), contents: data))
        }
        return load(files, limits: limits)
    }

    /// At most the first `count` bytes of the file at `path`: enough to tell that it is over a limit without
    /// reading a huge file into memory.
    static func readPrefix(_ path: String, count: Int) throws -> Data {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CapstanError(.notFound, "\(path): cannot open for reading")
        }
        defer { try? handle.close() }
        return try handle.read(upToCount: count) ?? Data()
    }

    /// Relative paths of manifest files under `directory`, sorted.
    static func manifestPaths(under directory: String) throws -> [String] {
        var result: [String] = []
        func walk(_ relative: String) throws {
            let full = relative.isEmpty ? directory : directory + "/" + relative
            for name in try FileManager.default.contentsOfDirectory(atPath: full).sorted() where !name.hasPrefix(".") {
                let child = relative.isEmpty ? name : relative + "/" + name
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: directory + "/" + child, isDirectory: &isDirectory) else { continue }
                if isDirectory.boolValue {
                    // A symbolic link to a directory could loop; only real directories are walked.
                    if (try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/" + child)) != nil { continue }
                    try walk(child)
                } else if isManifestPath(name) {
                    result.append(child)
                }
            }
        }
        try walk("")
        return result
    }
}
