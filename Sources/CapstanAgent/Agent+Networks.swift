import CapstanAPI
import CapstanContainerizer
import CapstanCore
import Foundation

/// A task's CNI networks: `container.network_infos` as Mesos has them, checked at the edge, and the addresses the
/// networks gave the container in its statuses.
extension Agent {
    /// Why a task's networks cannot be used (the task is TASK_ERROR with this message).
    struct NetworkRefusal: Error {
        var message: String
    }

    /// The networks `info` names, in order (unnamed ones give a namespace with loopback only), each with its port mappings (host ports only from the task's own `ports`
    /// resource, so two tasks never claim one host port) and the agent's `CNI_ARGS`.
    static func containerNetworks(_ info: TaskInfo, frameworkID: FrameworkID) throws(NetworkRefusal) -> [ContainerNetwork] {
        let requested = info.container?.networkInfos ?? []
        var networks: [ContainerNetwork] = []
        let ports = (info.resources.filter { $0.name == "ports" }.compactMap(\.ranges)).flatMap(\.range)
        var claimed: Set<String> = []
        for (index, network) in requested.enumerated() {
            let field = "task.container.network_infos[\(index)]"
            // A NetworkInfo without a name asks only for a network namespace of the container's own (loopback only).
            guard let name = network.name, !name.isEmpty else { continue }
            guard CNINetworkList.isValidName(name) else {
                throw NetworkRefusal(message: "\(field).name '\(name)' is not a CNI network name")
            }
            var mappings: [ContainerNetwork.PortMapping] = []
            for (portIndex, mapping) in network.portMappings.enumerated() {
                let portField = "\(field).port_mappings[\(portIndex)]"
                let proto = (mapping.protocol ?? "tcp").lowercased()
                guard proto == "tcp" || proto == "udp" else {
                    throw NetworkRefusal(message: "\(portField).protocol '\(mapping.protocol ?? "")' must be tcp or udp")
                }
                guard (1...65535).contains(mapping.containerPort) else {
                    throw NetworkRefusal(message: "\(portField).container_port \(mapping.containerPort) is not a port (1-65535)")
                }
                guard ports.contains(where: { UInt64(mapping.hostPort) >= $0.begin && UInt64(mapping.hostPort) <= $0.end }) else {
                    throw NetworkRefusal(
                        message: "\(portField).host_port \(mapping.hostPort) is not in the task's ports resources; host ports must come from the offer's ports")
                }
                guard claimed.insert("\(mapping.hostPort)/\(proto)").inserted else {
                    throw NetworkRefusal(message: "\(portField).host_port \(mapping.hostPort)/\(proto) is mapped twice")
                }
                mappings.append(.init(hostPort: Int(mapping.hostPort), containerPort: Int(mapping.containerPort), protocol: proto))
            }
            // Addresses the task asks for (Mesos' NetworkInfo.ip_addresses) and a `mac` label: runtimeConfig for plugins
            // with the `ips` and `mac` capabilities.
            var ips: [String] = []
            for (ipIndex, address) in network.ipAddresses.enumerated() {
                guard let text = address.ipAddress else { continue }
                guard Self.isAddress(text) else {
                    throw NetworkRefusal(message: "\(field).ip_addresses[\(ipIndex)].ip_address '\(text)' is not an IP address (optionally with /prefix)")
                }
                ips.append(text)
            }
            let mac = network.labels?.labels.first { $0.key == "mac" }?.value
            if let mac, !Self.isMAC(mac) {
                throw NetworkRefusal(message: "\(field).labels 'mac' '\(mac)' is not a MAC address such as 0a:58:0a:63:00:07")
            }
            networks.append(
                ContainerNetwork(
                    name: name, portMappings: mappings,
                    args: ["CAPSTAN_FRAMEWORK_ID": frameworkID.value, "CAPSTAN_TASK_ID": info.taskID.value],
                    mesosNetworkInfo: try? JSONValue(encoding: network), ips: ips, mac: mac))
        }
        return networks
    }

    static func isAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return false }
        if parts.count == 2, Int(parts[1]).map({ (0...128).contains($0) }) != true { return false }
        var v4 = in_addr(), v6 = in6_addr()
        let host = String(parts[0])
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    static func isMAC(_ text: String) -> Bool {
        let octets = text.split(separator: ":", omittingEmptySubsequences: false)
        return octets.count == 6 && octets.allSatisfy { $0.count == 2 && $0.allSatisfy(\.isHexDigit) }
    }

    /// The first network this agent does not have, with the message a framework gets; nil when all exist.
    func unknownNetworkMessage(_ networks: [ContainerNetwork]) async -> String? {
        guard !networks.isEmpty else { return nil }
        guard let cni = networkIsolator else {
            return "This agent has no CNI networks (start it with --network-cni-config-dir or --default-network-subnet): cannot join '\(networks[0].name)'"
        }
        let known = await cni.networks()
        guard let missing = networks.first(where: { known.networks[$0.name] == nil }) else { return nil }
        return "Unknown CNI network '\(missing.name)' (networks on this agent: \(known.names.isEmpty ? "none" : known.names.joined(separator: ", ")))"
    }

    /// The networks a container joined, as Mesos reports them in `container_status.network_infos`.
    static func networkInfos(_ attachments: [ContainerNetworkStatus], requested: [NetworkInfo]) -> [NetworkInfo] {
        attachments.map { attachment in
            var info = requested.first { $0.name == attachment.network } ?? NetworkInfo(name: attachment.network)
            info.ipAddresses = attachment.ipAddresses.map {
                NetworkInfo.IPAddress(protocol: $0.contains(":") ? .ipv6 : .ipv4, ipAddress: $0)
            }
            return info
        }
    }
}
