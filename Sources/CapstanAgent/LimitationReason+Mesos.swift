import CapstanAPI
import CapstanContainerizer

extension TaskStatus.Reason {
    /// The Mesos reason of a container limitation's typed reason.
    init(_ reason: LimitationReason) {
        switch reason {
        case .memory: self = .reasonContainerLimitationMemory
        case .disk: self = .reasonContainerLimitationDisk
        case .other: self = .reasonContainerLimitation
        }
    }
}
