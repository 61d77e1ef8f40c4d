import CapstanAPI
import Foundation

/// The RecordIO decoder the scheduler, executor and operator clients run on a master's or agent's stream.
/// The first input byte picks the chunk size; the rest is the stream. Invariants: the decoder never holds
/// more than one record's worth of bytes beyond what it could hand out, and every record it returns fits
/// the limit.
struct RecordIOFuzzTarget: FuzzTarget {
    let maximumLength = 64 << 10
    let dictionary = tokens([
        "\n", "0\n", "1\n", "20\n", "4096\n", "65536\n", "65537\n", "99999999999999999999\n", "-1\n", " 1\n", "1\r\n",
        "{\"type\":\"HEARTBEAT\"}", "{\"type\":\"SUBSCRIBED\",\"subscribed\":{\"framework_id\":{\"value\":\"f\"}}}",
    ])

    private static let maximumRecordSize = 4096

    func run(_ input: [UInt8]) throws(FuzzFinding) {
        guard let first = input.first else { return }
        let chunk = Int(first % 64) + 1
        let stream = input.dropFirst()
        var decoder = RecordIODecoder(maximumRecordSize: Self.maximumRecordSize)
        var offset = stream.startIndex
        while offset < stream.endIndex {
            let end = min(stream.endIndex, offset + chunk)
            decoder.append(stream[offset..<end])
            offset = end
            do {
                while let record = try decoder.next() {
                    guard record.count <= Self.maximumRecordSize else {
                        throw FuzzFinding("a record of \(record.count) bytes passed the limit of \(Self.maximumRecordSize)")
                    }
                    _ = try? MesosJSON.decode(SchedulerEvent.self, from: record)
                }
            } catch let finding as FuzzFinding {
                throw finding
            } catch {
                return  // a corrupt stream ends here, as the clients end it
            }
            // A header is at most 5 digits and a newline; then at most one record and one chunk are held.
            if decoder.bufferedByteCount > Self.maximumRecordSize + 6 + chunk {
                throw FuzzFinding("the decoder holds \(decoder.bufferedByteCount) bytes for records of at most \(Self.maximumRecordSize)")
            }
        }
    }
}
