import CapstanAPI
import Foundation
import Testing

@Suite("MesosJSONError") struct MesosJSONErrorTests {
    private func decodeError<T: Decodable>(_ type: T.Type, _ json: String) -> MesosJSONError? {
        do {
            _ = try MesosJSON.decode(T.self, from: Data(json.utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test func missingIDValueNamesTheFullPath() throws {
        let json = """
            {"type":"ACCEPT","framework_id":{"value":"f"},"accept":{"offer_ids":[{"value":"o"}],
             "operations":[{"type":"LAUNCH","launch":{"task_infos":[{"name":"t","task_id":{},"agent_id":{"value":"a"}}]}}]}}
            """
        let error = try #require(decodeError(SchedulerCall.self, json))
        #expect(
            error.message
                == "invalid JSON at 'accept.operations[0].launch.task_infos[0].task_id': missing field 'value'")
        #expect(error.path == "accept.operations[0].launch.task_infos[0].task_id")
    }

    @Test func missingRequiredIDNamesTheField() throws {
        let error = try #require(decodeError(SchedulerCall.self, #"{"type":"KILL","kill":{}}"#))
        #expect(error.message == "invalid JSON at 'kill': missing field 'task_id'")
    }

    @Test func unknownEnumValueNamesTheValueAndField() throws {
        let error = try #require(decodeError(SchedulerCall.self, #"{"type":"FOO"}"#))
        #expect(error.message == "invalid JSON at 'type': unknown value 'FOO' for enum 'type'")
        #expect(error.path == "type")
    }

    @Test func unknownNestedEnumValueNamesThePath() throws {
        let json = #"{"type":"ACCEPT","accept":{"operations":[{"type":"LAUNCH"},{"type":"EXPLODE"}]}}"#
        let error = try #require(decodeError(SchedulerCall.self, json))
        #expect(error.message == "invalid JSON at 'accept.operations[1].type': unknown value 'EXPLODE' for enum 'type'")
    }

    @Test func unknownEnumAtTheRootNamesTheEnumType() throws {
        let error = try #require(decodeError(TaskState.self, #""TASK_EXPLODED""#))
        #expect(error.message == "invalid JSON: unknown value 'TASK_EXPLODED' for enum 'TaskState'")
    }

    @Test func wrongTypeNamesTheExpectedType() throws {
        let error = try #require(decodeError(SchedulerCall.self, #"{"type":"DECLINE","decline":{"offer_ids":"o1"}}"#))
        #expect(error.message == "invalid JSON at 'decline.offer_ids': expected an array")
        let number = try #require(decodeError(Filters.self, #"{"refuse_seconds":"soon"}"#))
        #expect(number.message == "invalid JSON at 'refuse_seconds': expected a number")
    }

    @Test func syntaxErrorsSayNotValidJSON() throws {
        let error = try #require(decodeError(SchedulerCall.self, #"{"type": "SUBSCRIBE",,}"#))
        #expect(error.message.hasPrefix("not valid JSON: "))
        #expect(error.message != "not valid JSON: ")
        #expect(error.path == nil)
        let empty = try #require(decodeError(SchedulerCall.self, ""))
        #expect(empty.message.hasPrefix("not valid JSON: "))
    }

    @Test func badBase64NamesTheField() throws {
        let json =
            #"{"type":"ACKNOWLEDGE","acknowledge":{"agent_id":{"value":"a"},"task_id":{"value":"t"},"uuid":"%%%"}}"#
        let error = try #require(decodeError(SchedulerCall.self, json))
        #expect(error.message == "invalid JSON at 'acknowledge.uuid': not valid base64")
    }

    @Test func errorDescriptionIsTheSentence() throws {
        let error = try #require(decodeError(SchedulerCall.self, #"{"type":"FOO"}"#))
        #expect("\(error)" == error.message)
        #expect(error.localizedDescription == error.message)
    }
}
