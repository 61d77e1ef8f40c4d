import CapstanInitSpec
import Testing

@Suite("InitReport")
struct InitReportTests {
    @Test("Every report survives its frame; a failure keeps its stage, errno and detail")
    func roundTrip() throws {
        let reports: [InitReport] = [
            .pid1(4_194_303), .pid1(1), .started,
            .failed(InitFailure(stage: .rootfs, errno: 13, detail: "mount overlay on '/run/x'")),
            .failed(InitFailure(stage: .user, errno: 0, detail: "resolve user: user 'nobodyx' is not in the container's /etc/passwd")),
        ] + InitStage.allCases.map { .failed(InitFailure(stage: $0, errno: -1, detail: "é ✓")) }
        for report in reports {
            let bytes = report.bytes
            let length = try #require(InitReport.payloadLength(header: Array(bytes.prefix(3))))
            #expect(bytes.count == 3 + length)
            #expect(InitReport.decode(header: Array(bytes.prefix(3)), payload: Array(bytes.dropFirst(3))) == report)
        }
    }

    @Test("A detail longer than a frame is cut to fit; unknown tags, stages, lengths and short payloads decode to nil")
    func malformedFrames() {
        let long = InitReport.failed(InitFailure(stage: .exec, errno: 2, detail: String(repeating: "x", count: 10_000))).bytes
        #expect(long.count == 3 + InitReport.maximumPayload)
        #expect(InitReport.decode(header: [9, 0, 0], payload: []) == nil, "unknown tag")
        #expect(InitReport.decode(header: [3, 5, 0], payload: [200, 0, 0, 0, 0]) == nil, "unknown stage")
        #expect(InitReport.decode(header: [1, 2, 0], payload: [1, 2]) == nil, "a pid of two bytes")
        #expect(InitReport.decode(header: [2, 1, 0], payload: [0]) == nil, "started with a payload")
        #expect(InitReport.payloadLength(header: [3, 0xff, 0xff]) == nil, "longer than any frame")
        #expect(InitReport.decode(header: [1, 4, 0], payload: [1, 2, 3]) == nil, "payload shorter than announced")
    }
}
