import Foundation

/// The seed inputs of one target: every regular file directly in a directory, in name order.
enum FuzzCorpus {
    static func load(_ directory: String) throws -> [[UInt8]] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { !$0.hasPrefix(".") }.sorted()
        return try names.compactMap { name in
            let path = directory + "/" + name
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { return nil }
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        }
    }
}
