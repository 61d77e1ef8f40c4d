import Foundation

/// Writes user-facing lines to standard output immediately (scripts and tests read them as they come).
enum Console {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}
