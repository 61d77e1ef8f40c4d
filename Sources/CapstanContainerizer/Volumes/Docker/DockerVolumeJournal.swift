import CapstanCore
import CapstanLinux
import Foundation
import Glibc

/// One mount of a Docker volume on this agent, as journalled: which plugin mounted which volume under which mount
/// ID, where, in what state, and which containers hold claims on it.
public struct DockerVolumeMountRecord: Sendable, Hashable, Codable {
    /// Where a mount stands. `mounting`: journalled before `VolumeDriver.Mount`, so the plugin may or may not have
    /// mounted. `mounted`: Mount answered and its mountpoint checked. `unmounting`: the last claim is gone and
    /// `VolumeDriver.Unmount` was due; it may or may not have happened.
    public enum State: String, Sendable, Hashable, Codable { case mounting, mounted, unmounting }

    /// The format version of the file.
    public var version: Int = 1
    public var driver: DockerPluginName
    public var volume: DockerVolumeName
    public var options: [String: String]
    /// The ID sent with Mount and with the matching Unmount (`capstan-<uuid>`, fresh for every mount), also the
    /// journal file's name.
    public var mountID: String
    public var state: State
    /// The checked host mountpoint (set in `mounted`).
    public var mountpoint: String?
    /// The containers holding a claim, sorted.
    public var claimants: [String]

    public var containers: [ContainerID] { claimants.map(ContainerID.init) }

    public init(
        driver: DockerPluginName, volume: DockerVolumeName, options: [String: String], mountID: String, state: State, mountpoint: String?,
        claimants: [String]
    ) {
        self.driver = driver
        self.volume = volume
        self.options = options
        self.mountID = mountID
        self.state = state
        self.mountpoint = mountpoint
        self.claimants = claimants.sorted()
    }
}

/// The Docker volume mount table on disk: one file per mount, `<directory>/<mount ID>.json`, each written whole,
/// atomically and durably (``AtomicFile``: temporary file, fsync, rename, directory fsync), mode 0600, directory 0700.
/// All file I/O runs on the blocking pool.
struct DockerVolumeJournal: Sendable {
    let directory: String

    static func isMountID(_ name: String) -> Bool {
        name.hasPrefix("capstan-") && IdentifierRule.problem(with: name) == nil
    }

    func path(of mountID: String) throws(CapstanError) -> String {
        guard Self.isMountID(mountID) else {
            throw CapstanError(.internal, "'\(IdentifierRule.printable(mountID))' is not a Docker volume mount ID")
        }
        return directory + "/" + mountID + ".json"
    }

    /// Writes (or replaces) `record`'s file.
    func write(_ record: DockerVolumeMountRecord) async throws {
        let path = try path(of: record.mountID)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let data: Data
        do { data = try encoder.encode(record) } catch {
            throw CapstanError(.internal, "cannot encode the Docker volume mount record of \(record.volume)", cause: error)
        }
        let directory = directory
        try await Blocking.run { () throws in
            try Self.makeDirectory(directory)
            try AtomicFile.write(data, to: path, mode: 0o600)
        }
    }

    /// Removes `mountID`'s file (gone already is fine).
    func remove(_ mountID: String) async throws {
        let path = try path(of: mountID)
        try await Blocking.run { () throws in
            guard unlink(path) == 0 || errno == ENOENT else { throw CapstanError.system("cannot remove \(path)", errno: errno) }
            AtomicFile.syncDirectory(of: path)
        }
    }

    /// What ``load()`` read: every record, and the files that could not be read (with why).
    struct Loaded: Sendable {
        var records: [DockerVolumeMountRecord] = []
        var unreadable: [String] = []
    }

    /// Every record on disk, and the files that could not be read.
    func load() async throws -> Loaded {
        let directory = directory
        return try await Blocking.run { () throws -> Loaded in
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch let error as NSError
                where error.code == NSFileReadNoSuchFileError || error.code == NSFileNoSuchFileError
            {
                return Loaded()
            } catch {
                throw CapstanError(.internal, "cannot list the Docker volume journal \(directory)", cause: error)
            }
            var loaded = Loaded()
            for name in names.sorted() where name.hasSuffix(".json") && Self.isMountID(String(name.dropLast(5))) {
                let path = directory + "/" + name
                guard let data = FileManager.default.contents(atPath: path) else {
                    loaded.unreadable.append("\(path): cannot be read")
                    continue
                }
                do {
                    let record = try JSONDecoder().decode(DockerVolumeMountRecord.self, from: data)
                    guard record.mountID + ".json" == name else {
                        loaded.unreadable.append("\(path): names mount ID \(record.mountID)")
                        continue
                    }
                    loaded.records.append(record)
                } catch {
                    loaded.unreadable.append("\(path): \(error)")
                }
            }
            return loaded
        }
    }

    private static func makeDirectory(_ path: String) throws(CapstanError) {
        var info = stat()
        if stat(path, &info) == 0 { return }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CapstanError(.internal, "cannot create the Docker volume journal directory \(path)", cause: error)
        }
        AtomicFile.syncDirectory(of: path)
    }
}
