import CapstanAPI
import CapstanContainerizer
import CapstanCore
import Foundation
import Logging

extension Agent {
    /// The CDI devices a task asks for in its ``TaskLabel/cdiDevices`` label, checked against the agent's CDI specs.
    /// - Throws: `invalidArgument` for a name that is not fully qualified; `notFound` for a device the agent does not
    ///   have, naming it and listing the agent's CDI devices (or saying it has none).
    func requestedCDIDevices(_ info: TaskInfo) throws(CapstanError) -> [CDIDeviceName] {
        guard let label = info.labels?.labels.first(where: { $0.key == TaskLabel.cdiDevices }) else { return [] }
        do {
            let names = try CDIDeviceRequest.parse(label.value ?? "")
            try configuration.cdi.checkRequested(names)
            return names
        } catch let error as CapstanError {
            throw CapstanError(error.code, "task \(info.taskID) asks for CDI devices (label \(TaskLabel.cdiDevices)): \(error.message)")
        } catch {
            throw CapstanError(.internal, "task \(info.taskID): \(error)")
        }
    }
}

extension AgentService {
    /// Plus `devices/cdi` when running as root: containers get the CDI devices their task or image asks for. It comes
    /// before `cgroups/devices` (added after it), which allows the nodes it gives.
    static func withCDI(_ isolation: IsolatorSet, _ configuration: AgentConfiguration, logger: Logger) -> IsolatorSet {
        guard geteuid() == 0 else {
            if !configuration.cdi.deviceNames.isEmpty {
                logger.warning("devices/cdi is unavailable: it needs root; tasks asking for CDI devices will fail")
            }
            return isolation
        }
        return IsolatorSet(
            isolators: isolation.isolators + [CDIDeviceIsolator(registry: configuration.cdi, logger: logger)], unavailable: isolation.unavailable)
    }
}
