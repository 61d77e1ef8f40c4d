import CLibArchive
public import CapstanCore
import Foundation

extension LayerUnpacker {
    /// What ``inspect(archive:)`` found: the layer's diff ID and what unpacking it would do.
    public struct Inspection: Sendable, Equatable {
        public var summary: Summary
        /// The SHA-256 of the decompressed bytes.
        public var diffID: Digest
    }

    /// Reads the (plain, gzip or zstd) layer at `archivePath` through without writing anything, refusing it for
    /// everything ``unpack(archive:into:whiteouts:)`` would refuse (absolute or `..` names, device nodes, entries
    /// under a symlink or a non-directory of the layer, hard links to what the layer does not hold, whiteouts of
    /// nothing, more than ``maxLayerSize`` bytes), and returns its diff ID. Used at pull and import time so that a
    /// hostile image is refused before it is stored. Blocking.
    public func inspect(archive archivePath: String) throws -> Inspection {
        let source = try DecompressedStream(path: archivePath, limit: maxLayerSize)
        let archive = try Self.tarReader(over: source, archivePath: archivePath)
        defer { archive_read_free(archive) }
        var tree = VirtualLayerTree(archivePath: archivePath)
        var summary = Summary()
        var declared: Int64 = 0
        do {
            var entry: OpaquePointer?
            while true {
                let status = archive_read_next_header(archive, &entry)
                if status == ARCHIVE_EOF { break }
                guard status >= ARCHIVE_WARN, let entry else {
                    throw CapstanError(.invalidArgument, "cannot read layer \(archivePath): \(Self.errorText(archive))")
                }
                summary.entries += 1
                guard let rawName = archive_entry_pathname(entry) else {
                    throw CapstanError(.invalidArgument, "layer \(archivePath) has an entry without a name")
                }
                let type = archive_entry_filetype(entry)
                let hardlink = archive_entry_hardlink(entry).map { String(cString: $0) }
                if type == S_IFREG && hardlink == nil { declared += max(0, archive_entry_size(entry)) }
                summary.bytes = max(archive_filter_bytes(archive, 0), declared)
                if summary.bytes > maxLayerSize { throw Self.tooLarge(archivePath, limit: maxLayerSize) }
                if try tree.add(String(cString: rawName), type: type, hardlink: hardlink) { summary.whiteouts += 1 }
                guard archive_read_data_skip(archive) >= ARCHIVE_WARN else {
                    throw CapstanError(.invalidArgument, "cannot read layer \(archivePath): \(Self.errorText(archive))")
                }
            }
        } catch {
            if let failure = source.failure { throw source.error(failure) }
            throw error
        }
        let diffID = try source.drain()
        summary.bytes = max(summary.bytes, source.count)
        return Inspection(summary: summary, diffID: diffID)
    }
}

/// The tree one layer would write, kept in memory to check each entry against the ones before it, as the unpacker
/// checks against the directory it writes.
struct VirtualLayerTree {
    enum Kind { case directory, symlink, other }

    let archivePath: String
    var kinds: [String: Kind] = [:]

    init(archivePath: String) { self.archivePath = archivePath }

    func refuse(_ entry: String, _ reason: String) -> CapstanError {
        LayerEntryRules.refuse(entry, reason, in: archivePath)
    }

    /// Checks and records one entry; returns whether it is a whiteout.
    mutating func add(_ name: String, type: mode_t, hardlink: String?) throws -> Bool {
        let parts = try LayerEntryRules.components(of: name, entry: name, in: archivePath)
        guard let base = parts.last else { return false }  // the layer root itself
        let path = parts.joined(separator: "/")
        if base.hasPrefix(".wh.") {
            try checkParents(parts, entry: name)
            if let target = try LayerEntryRules.whiteoutTarget(base, entry: name, in: archivePath) {
                remove((parts.dropLast() + [target]).joined(separator: "/"))
            }
            return true
        }
        if type == S_IFCHR || type == S_IFBLK { throw refuse(name, "device nodes are not allowed in layers") }
        try checkParents(parts, entry: name)
        if let hardlink {
            let target = try LayerEntryRules.components(of: hardlink, entry: name, what: "its hard-link target '\(hardlink)'", in: archivePath)
            guard !target.isEmpty else { throw refuse(name, "its hard-link target is the layer root") }
            try checkParents(target, entry: name)
            switch kinds[target.joined(separator: "/")] {
            case nil: throw refuse(name, "its hard-link target '\(hardlink)' is not in the layer")
            case .directory?: throw refuse(name, "its hard-link target '\(hardlink)' is a directory")
            default: break
            }
            set(path, .other)
            return false
        }
        switch type {
        case S_IFDIR: if kinds[path] != .directory { set(path, .directory) }
        case S_IFLNK: set(path, .symlink)
        default: set(path, .other)
        }
        return false
    }

    /// Refuses an entry below a symlink or a non-directory that this layer made.
    func checkParents(_ parts: [String], entry: String) throws {
        var prefix = ""
        for part in parts.dropLast() {
            prefix = prefix.isEmpty ? part : prefix + "/" + part
            switch kinds[prefix] {
            case .symlink?: throw refuse(entry, "its parent '\(prefix)' is a symlink, and writes never go through symlinks")
            case .other?: throw refuse(entry, "its parent '\(prefix)' is not a directory")
            default: continue
            }
        }
    }

    /// Records `path` as `kind`, replacing what was there (and, for a directory replaced, all below it).
    mutating func set(_ path: String, _ kind: Kind) {
        if kinds[path] == .directory { remove(path) }
        kinds[path] = kind
    }

    mutating func remove(_ path: String) {
        if kinds.removeValue(forKey: path) == .directory {
            kinds = kinds.filter { !$0.key.hasPrefix(path + "/") }
        }
    }
}
