import Foundation

/// The golden JSON documents under `Golden/`, taken from the Mesos documentation.
enum Golden {
    static var directory: URL {
        Bundle.module.url(forResource: "Golden", withExtension: nil)!
    }

    /// File names (without `.json`) starting with `prefix`.
    static func names(_ prefix: String) -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }
            .map { String($0.dropLast(5)) }.sorted()
    }

    static func data(_ name: String) throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent("\(name).json"))
    }
}
