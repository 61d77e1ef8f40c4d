import Foundation

/// Frames records as RecordIO: `<decimal length>\n<bytes>` (Mesos `docs/recordio.md`).
public enum RecordIOEncoder {
    /// One framed record.
    public static func encode(_ record: Data) -> Data {
        var framed = Data("\(record.count)\n".utf8)
        framed.append(record)
        return framed
    }
}
