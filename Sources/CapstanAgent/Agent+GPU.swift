import CapstanAPI
import CapstanContainerizer
import CapstanCore

extension Agent {
    /// The label key under which a task's statuses name the GPUs its container holds (Mesos 1.0 reports none).
    static let gpusLabel = "capstan.gpus"

    /// `capstan.gpus=<uuid>,<uuid>` for a container holding GPUs under `gpu/nvidia`; nil otherwise.
    func gpuLabels(_ containerID: ContainerID) -> Labels? {
        guard let isolator = isolation.isolators.lazy.compactMap({ $0 as? NvidiaGPUIsolator }).first else { return nil }
        let gpus = isolator.gpus(of: containerID)
        guard !gpus.isEmpty else { return nil }
        return Labels(labels: [Label(key: Self.gpusLabel, value: gpus.map(\.uuid).joined(separator: ","))])
    }
}
