/// How a container ended.
public struct ContainerTermination: Sendable, Hashable, Codable {
    /// The exit status, when the first process exited normally.
    public var exitStatus: Int32?
    /// The signal, when the first process was terminated by one.
    public var signal: Int32?
    /// `true` when the container ended because a caller destroyed it (``Containerizer/destroy(_:gracePeriod:)``).
    /// `false` when it ended on its own, failed to launch, or was killed for a ``limitation``.
    public var killed: Bool
    /// One sentence for people, e.g. `Command exited with status 3`.
    public var message: String
    /// The limit whose hit ended the container, as an isolator's `watch` reported it.
    public var limitation: ContainerLimitation?

    /// Creates a termination.
    public init(exitStatus: Int32? = nil, signal: Int32? = nil, killed: Bool = false, message: String, limitation: ContainerLimitation? = nil) {
        self.exitStatus = exitStatus
        self.signal = signal
        self.killed = killed
        self.message = message
        self.limitation = limitation
    }

    /// The process exited with `status`.
    static func exited(_ status: Int32) -> ContainerTermination {
        ContainerTermination(exitStatus: status, message: "Command exited with status \(status)")
    }

    /// The process was terminated by `signal`.
    static func signaled(_ signal: Int32) -> ContainerTermination {
        ContainerTermination(signal: signal, message: "Command terminated by signal \(SignalName.of(signal))")
    }

    /// The process ended but its status could not be collected (it was not our child, or waiting failed).
    static func unknown(_ message: String) -> ContainerTermination {
        ContainerTermination(message: message)
    }
}
