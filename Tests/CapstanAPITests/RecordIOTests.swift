import CapstanAPI
import Foundation
import Testing

@Suite("RecordIO") struct RecordIOTests {
    private let records = [
        Data(#"{"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"12220-3440-12532-2345"}}}"#.utf8),
        Data(#"{"type":"HEARTBEAT"}"#.utf8),
        Data(),
        Data("é∑ multi-byte\n with a newline".utf8),
    ]

    private var stream: Data { records.reduce(into: Data()) { $0.append(RecordIOEncoder.encode($1)) } }

    private func drain(_ decoder: inout RecordIODecoder) throws -> [Data] {
        var out: [Data] = []
        while let record = try decoder.next() { out.append(record) }
        return out
    }

    @Test func encodesDecimalLengthNewlineBytes() {
        #expect(
            RecordIOEncoder.encode(Data(#"{"type":"HEARTBEAT"}"#.utf8)) == Data("20\n{\"type\":\"HEARTBEAT\"}".utf8))
        #expect(RecordIOEncoder.encode(Data()) == Data("0\n".utf8))
    }

    @Test func decodesManyRecordsFromOneChunk() throws {
        var decoder = RecordIODecoder()
        decoder.append(stream)
        #expect(try drain(&decoder) == records)
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test func decodesRecordsSplitByteByByte() throws {
        var decoder = RecordIODecoder()
        var out: [Data] = []
        for byte in stream {
            decoder.append(CollectionOfOne(byte))
            out += try drain(&decoder)
        }
        #expect(out == records)
    }

    @Test(arguments: [2, 3, 7, 19, 64])
    func decodesRecordsSplitAtAnyChunkSize(_ size: Int) throws {
        var decoder = RecordIODecoder()
        var out: [Data] = []
        let bytes = [UInt8](stream)
        for start in stride(from: 0, to: bytes.count, by: size) {
            decoder.append(bytes[start..<min(start + size, bytes.count)])
            out += try drain(&decoder)
        }
        #expect(out == records)
    }

    @Test func waitsForTheRestOfAPartialRecord() throws {
        var decoder = RecordIODecoder()
        decoder.append(Data("20\n{\"type\":".utf8))
        #expect(try decoder.next() == nil)
        decoder.append(Data("\"HEARTBEAT\"}2".utf8))
        #expect(try decoder.next() == Data(#"{"type":"HEARTBEAT"}"#.utf8))
        #expect(try decoder.next() == nil)
        decoder.append(Data("\nok".utf8))
        #expect(try decoder.next() == Data("ok".utf8))
    }

    @Test(arguments: ["abc\n{}", "-5\n", " 5\n", "\n{}", "1a\n", "12\r\n"])
    func rejectsNonDecimalLengths(_ text: String) {
        var decoder = RecordIODecoder()
        decoder.append(Data(text.utf8))
        #expect(throws: RecordIOError.self) { _ = try decoder.next() }
    }

    @Test func rejectsAbsurdLengthsBeforeTheNewlineArrives() {
        var decoder = RecordIODecoder()
        decoder.append(Data("99999999999999999999".utf8))
        #expect(throws: RecordIOError.self) { _ = try decoder.next() }
        var large = RecordIODecoder()
        large.append(Data("\((64 << 20) + 1)\n".utf8))
        #expect(throws: RecordIOError.recordTooLarge("67108865", maximum: 64 << 20)) { _ = try large.next() }
    }

    @Test func aLargeAnnouncedLengthBuffersOnlyTheBytesThatArrived() throws {
        var decoder = RecordIODecoder()
        decoder.append(Data("\(60 << 20)\nabc".utf8))
        #expect(try decoder.next() == nil)
        #expect(decoder.bufferedByteCount == 3, "the announced 60 MiB are never allocated up front")
    }

    @Test func acceptsARecordOfExactlyTheMaximum() throws {
        var decoder = RecordIODecoder(maximumRecordSize: 4)
        decoder.append(Data("4\nabcd5\n".utf8))
        #expect(try decoder.next() == Data("abcd".utf8))
        #expect(throws: RecordIOError.self) { _ = try decoder.next() }
    }

    @Test func errorsDescribeTheHeader() {
        #expect("\(RecordIOError.invalidLength("x"))".contains("'x'"))
        #expect("\(RecordIOError.recordTooLarge("9", maximum: 4))".contains("4 bytes"))
    }

    @Test func roundTripsEncodedEvents() throws {
        let event = SchedulerEvent.heartbeat
        var decoder = RecordIODecoder()
        decoder.append(RecordIOEncoder.encode(try MesosJSON.encode(event)))
        let record = try #require(try decoder.next())
        #expect(try MesosJSON.decode(SchedulerEvent.self, from: record) == event)
    }
}
