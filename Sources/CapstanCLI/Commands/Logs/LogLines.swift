import Foundation

/// Splits a file's bytes, as they arrive in chunks, into lines (without their newline); the bytes after the last
/// newline wait for the next chunk, or for ``finish()``.
struct LogLines {
    private var pending = Data()

    /// The complete lines in `pending + chunk`.
    mutating func append(_ chunk: Data) -> [Data] {
        pending.append(chunk)
        var lines: [Data] = []
        var start = pending.startIndex
        while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
            lines.append(pending[start..<newline])
            start = pending.index(after: newline)
        }
        pending = Data(pending[start...])
        return lines
    }

    /// The last line if it had no newline.
    mutating func finish() -> Data? {
        defer { pending = Data() }
        return pending.isEmpty ? nil : pending
    }

    /// Where the last `count` lines of `window` start, `window` being the bytes before `end` of a file (so that a
    /// newline that ends the file does not count as a line). Nil when `window` holds fewer than `count` line starts,
    /// unless it begins at the start of the file (`atStart`), where its first byte starts a line.
    static func tailStart(of window: Data, count: Int, atStart: Bool) -> Int? {
        guard count > 0 else { return window.count }
        var bytes = [UInt8](window)
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        var found = 0
        var index = bytes.count
        while index > 0 {
            index -= 1
            if bytes[index] == UInt8(ascii: "\n") {
                found += 1
                if found == count { return index + 1 }
            }
        }
        return atStart ? 0 : nil
    }
}
