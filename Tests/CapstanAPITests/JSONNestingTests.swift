import CapstanAPI
import Foundation
import Testing

/// Issue 9, item 6: JSON nested deeper than the limit is refused before it is decoded, naming depth and limit.
@Suite("JSONNesting") struct JSONNestingTests {
    @Test func measuresArraysAndObjectsButNotBracketsInStrings() {
        #expect(JSONNesting.measure(Data(#"{"a":[1,{"b":[]}]}"#.utf8), limit: 64) == .init(depth: 4, firstBeyondLimit: nil))
        #expect(JSONNesting.measure(Data(#"{"a":"[[[{\"[[{","b":"\\"}"#.utf8), limit: 64).depth == 1)
        #expect(JSONNesting.measure(Data("42".utf8), limit: 64).depth == 0)
        #expect(JSONNesting.measure(Data("[[[]]]".utf8), limit: 2) == .init(depth: 3, firstBeyondLimit: 2))
    }

    @Test func aCallNested5000LevelsIsRefusedBeforeDecoding() throws {
        let json = #"{"type":"ACCEPT","accept":"# + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "}"
        let error = #expect(throws: MesosJSONError.self) { try MesosJSON.decode(SchedulerCall.self, from: Data(json.utf8)) }
        #expect(error?.message == "JSON is nested 5001 levels deep, more than the limit of 64 (level 65 starts at byte 89)")
        #expect(error?.path == nil)
    }

    @Test func everyDecoderOfTheAPIIsBounded() {
        let deep = Data((String(repeating: #"{"a":"#, count: 100_000) + "1" + String(repeating: "}", count: 100_000)).utf8)
        #expect(throws: MesosJSONError.self) { try MesosJSON.decode(OperatorCall.self, from: deep) }
        #expect(throws: MesosJSONError.self) { try MesosJSON.decode(ExecutorCall.self, from: deep) }
        #expect(throws: MesosJSONError.self) { try MesosJSON.decode(AgentOperatorCall.self, from: deep) }
        #expect(throws: MesosJSONError.self) { try MesosJSON.decode(RunTaskMessage.self, from: deep) }
    }

    @Test func sixtyFourLevelsPassTheCheckAndReachTheDecoder() throws {
        let json = #"{"type":"ACCEPT","accept":"# + String(repeating: "[", count: 63) + String(repeating: "]", count: 63) + "}"
        let error = #expect(throws: MesosJSONError.self) { try MesosJSON.decode(SchedulerCall.self, from: Data(json.utf8)) }
        #expect(error?.message.contains("nested") == false, "\(String(describing: error))")
        #expect(throws: MesosJSONError.self) { try MesosJSON.decode(SchedulerCall.self, from: Data(json.utf8), maximumDepth: 63) }
    }
}
