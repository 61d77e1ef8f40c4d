public import CapstanCore
import CapstanLinux
import Foundation
import Logging

/// A container (or anything else) that mounts unpacked layers, recorded under `<store>/users/<name>.json` so that
/// `prune` — in this process or in another one, such as `capstan image prune` beside a running agent — keeps those
/// layers while it runs, even after its image's name was removed.
///
/// A record holds while its `directory` exists (the container's state directory); a record whose directory is gone
/// is stale and `prune` removes it. A fresh record is trusted for ``ImageStore/layerUserGrace`` before its
/// directory has to appear, since it is written before the container starts.
public struct LayerUser: Sendable, Equatable, Codable {
    /// A file-name-safe name, unique per user (a container ID).
    public var name: String
    /// The directory whose existence keeps the record alive.
    public var directory: String
    /// The diff IDs of the layers it mounts.
    public var layers: [Digest]

    public init(name: String, directory: String, layers: [Digest] = []) {
        self.name = name
        self.directory = directory
        self.layers = layers
    }
}

extension ImageStore {
    /// How long a layer-user record counts before its directory exists.
    public static let layerUserGrace: TimeInterval = 600

    nonisolated var usersDirectory: String { root + "/users" }

    nonisolated func userPath(_ name: String) throws -> String {
        guard !name.isEmpty, !name.hasPrefix("."), !name.contains("/") else {
            throw CapstanError(.invalidArgument, "layer user name '\(name)' is not a plain file name")
        }
        return "\(usersDirectory)/\(name).json"
    }

    /// Records that `user` mounts its layers (written atomically and durably, on ``Blocking``'s pool; the caller
    /// awaits it before the layers are handed out).
    func recordUser(_ user: LayerUser) async throws {
        let directory = usersDirectory, path = try userPath(user.name), data = try ImageJSON.encode(user)
        let probe = durableWriteProbe
        try await Blocking.run {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            probe?(path)
            try AtomicFile.write(data, to: path)
        }
    }

    /// Forgets the layer user `name` (its container ended); a name never recorded is fine.
    public func releaseLayers(user name: String) throws {
        let path = try userPath(name)
        if unlink(path) != 0 && errno != ENOENT {
            throw CapstanError.system("cannot remove layer user record \(path)", errno: errno)
        }
    }

    /// The layer users whose records still hold; stale records are removed on the way.
    /// - Throws: `failedPrecondition` naming a record that is there but does not decode (torn, truncated,
    ///   corrupted): read as no user, its layers would be pruned under a running container.
    public func layerUsers(now: Date = Date()) throws -> [LayerUser] {
        let fm = FileManager.default
        var users: [LayerUser] = []
        for file in ((try? fm.contentsOfDirectory(atPath: usersDirectory)) ?? []).sorted() where file.hasSuffix(".json") {
            let path = usersDirectory + "/" + file
            guard let data = fm.contents(atPath: path) else { continue }  // released meanwhile
            let user: LayerUser
            do { user = try ImageJSON.decode(LayerUser.self, from: data, what: path) } catch {
                throw CapstanError(
                    .failedPrecondition,
                    "Layer user record \(path) is \(data.isEmpty ? "empty" : "not whole (\(data.count) bytes; torn or corrupted)"); prune will not guess which layers it keeps. Remove it once the container it names (its file name) has ended, and prune again",
                    cause: error)
            }
            let written = (try? fm.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? now
            if fm.fileExists(atPath: user.directory) || now.timeIntervalSince(written) < Self.layerUserGrace {
                users.append(user)
            } else {
                try? fm.removeItem(atPath: path)
                logger.info("removed stale layer user", metadata: ["user": "\(user.name)", "directory": "\(user.directory)"])
            }
        }
        return users
    }
}
