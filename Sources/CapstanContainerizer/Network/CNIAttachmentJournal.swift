import CapstanCore
import CapstanLinux
import Foundation
import Glibc

/// What the agent keeps about a container's networks, under `<run dir>/<container id>/`, so that DEL always uses what
/// ADD used — whatever happened to the configuration directory since — and happens after a crash too:
///
/// ```
/// ns                                  the network namespace, held by a bind mount of /proc/<pid>/ns/net
/// etc/hosts, etc/hostname, etc/resolv.conf   bind-mounted over the container's /etc files
/// attachments/<index>-<network>/network.conf  the exact conflist ADD used (its negotiated cniVersion), written before ADD
/// attachments/<index>-<network>/attachment.json  interface, CNI_ARGS and runtime config, written before ADD
/// attachments/<index>-<network>/result.json    the plugin chain's result, written after ADD
/// ```
struct CNIAttachmentJournal: Sendable {
    let root: String

    struct Attachment: Sendable, Hashable, Codable {
        var index: Int
        var network: String
        var interface: String
        var args: [[String]]
        var runtimeConfig: JSONValue
        var mesosNetworkInfo: JSONValue?
    }

    /// One journalled attachment, read back.
    struct Entry: Sendable {
        var directory: String
        var attachment: Attachment
        var document: JSONValue
        var result: JSONValue?
    }

    func containerDirectory(_ id: ContainerID) throws(CapstanError) -> String {
        try id.checkPathSafe(field: "container_id")
        return root + "/" + id.value
    }

    func netnsPath(_ id: ContainerID) throws(CapstanError) -> String { try containerDirectory(id) + "/ns" }
    func etcDirectory(_ id: ContainerID) throws(CapstanError) -> String { try containerDirectory(id) + "/etc" }

    func attachmentDirectory(_ id: ContainerID, _ attachment: Attachment) throws(CapstanError) -> String {
        try containerDirectory(id) + "/attachments/\(attachment.index)-\(attachment.network)"
    }

    /// Journals an attachment before its ADD: the configuration and how it is called.
    func begin(_ id: ContainerID, _ attachment: Attachment, document: JSONValue) throws(CapstanError) {
        let directory = try attachmentDirectory(id, attachment)
        try Self.makeDirectory(directory)
        try AtomicFile.write(document.encoded(), to: directory + "/network.conf", mode: 0o600)
        try AtomicFile.write(try Self.encode(attachment), to: directory + "/attachment.json", mode: 0o600)
    }

    /// Journals an attachment's ADD result.
    func finish(_ id: ContainerID, _ attachment: Attachment, result: JSONValue) throws(CapstanError) {
        try AtomicFile.write(result.encoded(), to: try attachmentDirectory(id, attachment) + "/result.json", mode: 0o600)
    }

    /// A container's journalled attachments, in attach order. An attachment directory without `attachment.json` (the
    /// agent stopped between `begin`'s two writes, before ADD) is skipped; a file that is there but does not decode
    /// (torn, truncated, corrupted) is an error naming it: skipped, its address would never be released.
    func entries(_ id: ContainerID) throws(CapstanError) -> [Entry] {
        let directory = try containerDirectory(id) + "/attachments"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var entries: [Entry] = []
        for name in names {
            let path = directory + "/" + name
            guard let attachmentData = FileManager.default.contents(atPath: path + "/attachment.json") else { continue }
            let attachment = try Self.decode(path + "/attachment.json", attachmentData) {
                try JSONDecoder().decode(Attachment.self, from: $0)
            }
            let documentData = FileManager.default.contents(atPath: path + "/network.conf") ?? Data()
            let document = try Self.decode(path + "/network.conf", documentData) { try JSONValue.parse($0) }
            let result = try FileManager.default.contents(atPath: path + "/result.json").map { data throws(CapstanError) in
                try Self.decode(path + "/result.json", data) { try JSONValue.parse($0) }
            }
            entries.append(Entry(directory: path, attachment: attachment, document: document, result: result))
        }
        return entries.sorted { $0.attachment.index < $1.attachment.index }
    }

    /// Decodes one journal file, or names it in an error a person can act on.
    private static func decode<T>(_ path: String, _ data: Data, _ body: (Data) throws -> T) throws(CapstanError) -> T {
        do { return try body(data) } catch {
            throw CapstanError(
                .failedPrecondition,
                "CNI attachment journal file \(path) is \(data.isEmpty ? "empty or missing" : "not whole (\(data.count) bytes; torn or corrupted)"); the agent will not guess which network attachment it recorded. Restore it, or release the attachment by hand (CNI DEL) and remove its directory, and start again",
                cause: error)
        }
    }

    /// The containers with a journal.
    func containers() -> [ContainerID] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).map(ContainerID.init).filter(\.isPathSafe).sorted { $0.value < $1.value }
    }

    /// Removes a container's journal once nothing is mounted in it.
    func remove(_ id: ContainerID) throws(CapstanError) {
        let directory = try containerDirectory(id)
        do { try FileManager.default.removeItem(atPath: directory) } catch let error as NSError where error.code == NSFileNoSuchFileError {
        } catch {
            throw CapstanError(.internal, "Cannot remove the network journal \(directory): \(error.localizedDescription)")
        }
    }

    static func makeDirectory(_ path: String) throws(CapstanError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CapstanError(.internal, "Cannot create \(path): \(error.localizedDescription)")
        }
    }

    private static func encode(_ attachment: Attachment) throws(CapstanError) -> Data {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return try encoder.encode(attachment)
        } catch {
            throw CapstanError(.internal, "Cannot encode a network attachment: \(error)")
        }
    }
}
