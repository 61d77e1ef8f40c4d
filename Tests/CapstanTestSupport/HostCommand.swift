import Foundation

/// A host program run to completion by a test (ip, iptables-save, curl): its standard output, stderr discarded.
public enum HostCommand {
    /// The program's stdout; empty when it cannot be started.
    @discardableResult
    public static func output(_ path: String, _ arguments: [String]) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return "" }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
