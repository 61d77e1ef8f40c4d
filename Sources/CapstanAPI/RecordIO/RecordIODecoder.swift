import Foundation

/// Splits a RecordIO byte stream (`<decimal length>\n<bytes>`…) back into records, whatever the chunking:
/// a record may span several chunks and a chunk may hold several records.
public struct RecordIODecoder: Sendable {
    /// The largest record accepted; a longer announced length is rejected as corrupt.
    public static let defaultMaximumRecordSize = 64 << 20

    public let maximumRecordSize: Int
    private var buffer: [UInt8] = []
    /// Bytes of `buffer` already consumed.
    private var start = 0
    /// The length of the record whose header has been read but whose bytes have not all arrived.
    private var pendingLength: Int?

    public init(maximumRecordSize: Int = RecordIODecoder.defaultMaximumRecordSize) {
        self.maximumRecordSize = maximumRecordSize
    }

    /// Bytes received but not yet returned as records.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Adds the next chunk of the stream.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 0, start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete record, or nil until more bytes arrive. Throws when the length header is not a
    /// decimal number or announces more than `maximumRecordSize` bytes; the stream cannot be resumed then.
    public mutating func next() throws(RecordIOError) -> Data? {
        if pendingLength == nil {
            guard let length = try readHeader() else { return nil }
            pendingLength = length
        }
        guard let length = pendingLength, buffer.count - start >= length else { return nil }
        let record = Data(buffer[start..<(start + length)])
        start += length
        pendingLength = nil
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        return record
    }

    /// Reads `<digits>\n` at `start`; nil when the newline has not arrived yet.
    private mutating func readHeader() throws(RecordIOError) -> Int? {
        let maximumDigits = String(maximumRecordSize).count
        var length = 0
        var index = start
        while index < buffer.count {
            let byte = buffer[index]
            if byte == UInt8(ascii: "\n") {
                guard index > start else { throw RecordIOError.invalidLength("") }
                start = index + 1
                return length
            }
            let header = String(decoding: buffer[start...index].prefix(32), as: UTF8.self)
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else {
                throw RecordIOError.invalidLength(header)
            }
            length = length * 10 + Int(byte - UInt8(ascii: "0"))
            if index - start + 1 > maximumDigits || length > maximumRecordSize {
                throw RecordIOError.recordTooLarge(header, maximum: maximumRecordSize)
            }
            index += 1
        }
        return nil
    }
}

/// A RecordIO stream that cannot be decoded.
public enum RecordIOError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The length header is empty or not a decimal number.
    case invalidLength(String)
    /// The length header announces a record larger than the decoder accepts.
    case recordTooLarge(String, maximum: Int)

    public var description: String {
        switch self {
        case .invalidLength(let header):
            "invalid RecordIO length '\(header)': expected a decimal number followed by a newline"
        case .recordTooLarge(let header, let maximum):
            "RecordIO record length '\(header)' exceeds the maximum of \(maximum) bytes"
        }
    }
}
