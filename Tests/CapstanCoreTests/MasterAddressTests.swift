import Testing

@testable import CapstanCore

@Suite("--master addresses: one, several, etcd://")
struct MasterAddressTests {
    @Test("One master, a list, and etcd:// with and without a prefix")
    func parses() throws {
        #expect(try MasterAddress.parse("127.0.0.1:5050") == .masters([HostPort(host: "127.0.0.1", port: 5050)]))
        #expect(try MasterAddress.parse("127.0.0.1:5050").single == HostPort(host: "127.0.0.1", port: 5050))
        #expect(try MasterAddress.parse("localhost", defaultPort: 5050).single == HostPort(host: "localhost", port: 5050))
        let list = try MasterAddress.parse(" 127.0.0.1:5050, 127.0.0.2:5051 ,[::1]:5052")
        #expect(list == .masters([HostPort(host: "127.0.0.1", port: 5050), HostPort(host: "127.0.0.2", port: 5051), HostPort(host: "::1", port: 5052)]))
        #expect(list.single == nil)
        #expect(list.first == HostPort(host: "127.0.0.1", port: 5050))
        #expect(list.description == "127.0.0.1:5050,127.0.0.2:5051,[::1]:5052")
        #expect(try MasterAddress.parse("http://127.0.0.1:5050/") == .masters([HostPort(host: "127.0.0.1", port: 5050)]))

        let etcd = try MasterAddress.parse("etcd://127.0.0.1:2379,127.0.0.1:22379/prod/capstan/")
        #expect(etcd == .etcd(endpoints: [HostPort(host: "127.0.0.1", port: 2379), HostPort(host: "127.0.0.1", port: 22379)], prefix: "/prod/capstan"))
        #expect(etcd.single == nil && etcd.first == nil)
        #expect(etcd.description == "etcd://127.0.0.1:2379,127.0.0.1:22379/prod/capstan")
        #expect(try MasterAddress.parse("ETCD://127.0.0.1:2379") == .etcd(endpoints: [HostPort(host: "127.0.0.1", port: 2379)], prefix: "/capstan"))
    }

    @Test("Bad values name what is wrong and where in the list")
    func refuses() {
        func message(_ text: String) -> String {
            do {
                _ = try MasterAddress.parse(text)
                return "parsed"
            } catch {
                return error.message
            }
        }
        #expect(message("127.0.0.1:5050,,127.0.0.1:5051").contains("master 2 of the comma-separated list is empty"))
        #expect(message("127.0.0.1:5050,127.0.0.1").contains("master 2: '127.0.0.1' is not HOST:PORT: the port is missing"))
        #expect(message("etcd://127.0.0.1:2379,:x/capstan").contains("etcd member 2"))
        #expect(message("etcd://127.0.0.1:2379/").contains("the etcd prefix is empty"))
        #expect(message("etcd://127.0.0.1:2379/a b").contains("printable ASCII"))
        #expect(message("zk://127.0.0.1:2181/mesos").contains("use HOST:PORT, several HOST:PORTs separated by commas, or etcd://HOST:PORT/PREFIX"))
        #expect(message("").contains("empty"))
    }
}
