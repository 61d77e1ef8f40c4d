import CapstanCore
import Foundation

/// A scratch directory for CDI spec files, removed when the body returns.
struct CDIScratch {
    /// What `body` throws, as the user reads it (a ``CapstanError``'s message), or `succeeded`.
    static func message(_ body: () throws -> Any) -> String {
        do {
            _ = try body()
            return "succeeded"
        } catch let error as CapstanError {
            return error.message
        } catch {
            return "\(error)"
        }
    }

    let root: String

    static func with<T>(_ body: (CDIScratch) throws -> T) throws -> T {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-cdi-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        return try body(CDIScratch(root: root))
    }

    /// Writes `text` to `<root>/<directory>/<name>` and returns the path.
    @discardableResult
    func write(_ directory: String, _ name: String, _ text: String) throws -> String {
        let directoryPath = root + "/" + directory
        try FileManager.default.createDirectory(atPath: directoryPath, withIntermediateDirectories: true)
        let path = directoryPath + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func path(_ directory: String) -> String { root + "/" + directory }
}
