import CapstanAPI
import CapstanCore
import Foundation
import Testing

@Suite("Operator API wire format") struct OperatorWireTests {
    @Test func decodesTheDocsMasterGetState() throws {
        let response = try MesosJSON.decode(OperatorResponse.self, from: try Golden.data("operator-response-get-state"))
        #expect(response.type == .getState)
        let state = try #require(response.getState)
        let agent = try #require(state.getAgents?.agents.first)
        #expect(agent.active)
        #expect(agent.agentInfo.id == "628984d0-4213-4140-bcb0-99d7ef46b1df-S0")
        #expect(agent.agentInfo.port == 34626)
        #expect(agent.registeredTime?.nanoseconds == 1_470_820_172_046_531_840)
        #expect(agent.totalResources.last?.ranges?.range == [MesosValueRange(begin: 31000, end: 32000)])
        #expect(agent.version == "1.1.0")
        let framework = try #require(state.getFrameworks?.frameworks.first)
        #expect(framework.frameworkInfo.principal == "my-principal")
        #expect(framework.frameworkInfo.failoverTimeout == 0)
        #expect(framework.frameworkInfo.checkpoint == false)
        #expect(state.getExecutors?.executors.first?.executorInfo.command?.value == "")
        let task = try #require(state.getTasks?.completedTasks.first)
        #expect(task.state == .taskFinished)
        #expect(task.statusUpdateUUID == Base64Bytes(base64: "IWjmPnfgQCWxGVlNNwctcg=="))
        #expect(task.statuses.map(\.state) == [.taskRunning, .taskFinished])
        #expect(task.statuses[0].containerStatus?.networkInfos.first?.ipAddresses.first?.ipAddress == "127.0.1.1")
        #expect(state.getTasks?.tasks == [])
    }

    @Test func getStateEncodesDeterministically() throws {
        let data = try Golden.data("operator-response-get-state")
        let response = try MesosJSON.decode(OperatorResponse.self, from: data)
        #expect(try MesosJSON.encode(response) == MesosJSON.encode(response))
    }

    @Test func everyMasterCallTypeParses() throws {
        for kind in OperatorCall.Kind.allCases {
            let call = try MesosJSON.decode(OperatorCall.self, from: Data(#"{"type":"\#(kind.rawValue)"}"#.utf8))
            #expect(call.type == kind)
        }
        #expect(OperatorCall.Kind.allCases.count == 40)
    }

    @Test func everyAgentCallTypeParses() throws {
        for kind in AgentOperatorCall.Kind.allCases {
            let call = try MesosJSON.decode(AgentOperatorCall.self, from: Data(#"{"type":"\#(kind.rawValue)"}"#.utf8))
            #expect(call.type == kind)
        }
    }

    @Test func subscribedEventCarriesState() throws {
        let event = OperatorEvent(
            type: .subscribed,
            subscribed: .init(
                getState: .init(
                    getTasks: .init(tasks: [
                        MesosTask(name: "web", taskID: "t1", frameworkID: "f1", agentID: "a1", state: .taskRunning)
                    ])),
                heartbeatIntervalSeconds: 15))
        let text = String(decoding: try MesosJSON.encode(event), as: UTF8.self)
        #expect(
            text
                == #"{"subscribed":{"get_state":{"get_tasks":{"tasks":[{"agent_id":{"value":"a1"},"framework_id":{"value":"f1"},"name":"web","state":"TASK_RUNNING","task_id":{"value":"t1"}}]}},"heartbeat_interval_seconds":15},"type":"SUBSCRIBED"}"#
        )
        #expect(try MesosJSON.decode(OperatorEvent.self, from: Data(text.utf8)) == event)
    }

    @Test func taskUpdatedRequiresStatus() throws {
        let json = #"{"type":"TASK_UPDATED","task_updated":{"framework_id":{"value":"f"},"state":"TASK_RUNNING"}}"#
        #expect(throws: MesosJSONError.self) { _ = try MesosJSON.decode(OperatorEvent.self, from: Data(json.utf8)) }
    }

    @Test func versionResponseUsesVersionInfo() throws {
        let response = try MesosJSON.decode(
            OperatorResponse.self, from: try Golden.data("operator-response-get-version"))
        #expect(response.getVersion?.versionInfo.version.isEmpty == false)
    }

    @Test func readFileOffsetAcceptsAString() throws {
        let call = try MesosJSON.decode(
            OperatorCall.self,
            from: Data(#"{"type":"READ_FILE","read_file":{"path":"/x","offset":"1","length":"2"}}"#.utf8))
        #expect(call.readFile == .init(path: "/x", offset: 1, length: 2))
    }

    @Test func decodesTheDocsAgentGetContainers() throws {
        let response = try MesosJSON.decode(
            AgentOperatorResponse.self, from: try Golden.data("agent-response-get-containers"))
        let container = try #require(response.getContainers?.containers.first)
        #expect(container.resourceStatistics == ResourceStatistics(timestamp: 0, memLimitBytes: 2048))
        #expect(container.executorName == "")
        #expect(container.containerStatus?.networkInfos.first?.ipAddresses.first?.ipAddress == "192.168.1.20")
    }

    @Test func resourceStatisticsCountersAcceptStrings() throws {
        let stats = try MesosJSON.decode(
            ResourceStatistics.self,
            from: Data(#"{"timestamp":1.5,"mem_rss_bytes":"1048576","cpus_limit":0.5,"processes":3}"#.utf8))
        #expect(stats.memRssBytes == 1_048_576)
        #expect(stats.processes == 3)
        #expect(
            String(decoding: try MesosJSON.encode(stats), as: UTF8.self)
                == #"{"cpus_limit":0.5,"mem_rss_bytes":1048576,"processes":3,"timestamp":1.5}"#)
    }
}
