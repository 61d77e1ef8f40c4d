import CapstanAPI
import CapstanCore
import Foundation
import Testing

@Suite("Coding helpers") struct CodingHelpersTests {
    @Test func missingRepeatedFieldsDecodeAsEmpty() throws {
        let json = #"{"type":"ACCEPT","framework_id":{"value":"f"},"accept":{}}"#
        let call = try MesosJSON.decode(SchedulerCall.self, from: Data(json.utf8))
        #expect(call.accept?.offerIDs == [])
        #expect(call.accept?.operations == [])
    }

    @Test func emptyRepeatedFieldsAreOmitted() throws {
        let call = SchedulerCall(type: .decline, frameworkID: "f", decline: .init(offerIDs: []))
        let text = String(decoding: try MesosJSON.encode(call), as: UTF8.self)
        #expect(text == #"{"decline":{},"framework_id":{"value":"f"},"type":"DECLINE"}"#)
    }

    @Test func int64DecodesFromStringAndEncodesAsNumber() throws {
        let range = try MesosJSON.decode(MesosValueRange.self, from: Data(#"{"begin":"31000","end":32000}"#.utf8))
        #expect(range == MesosValueRange(begin: 31000, end: 32000))
        #expect(String(decoding: try MesosJSON.encode(range), as: UTF8.self) == #"{"begin":31000,"end":32000}"#)
    }

    @Test func optionalInt64IsOmittedWhenNil() throws {
        let stats = try MesosJSON.decode(KillPolicy.self, from: Data(#"{"grace_period":{"nanoseconds":"5"}}"#.utf8))
        #expect(stats.gracePeriod?.nanoseconds == 5)
    }
}
