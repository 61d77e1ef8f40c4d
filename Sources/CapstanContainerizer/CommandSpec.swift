/// What a container runs: a shell line or a program with its arguments, in the manner of Mesos `CommandInfo`.
public struct CommandSpec: Sendable, Hashable, Codable {
    /// `true`: run `/bin/sh -c value`. `false`: execute `value` with `arguments`.
    public var shell: Bool
    /// The shell line, or the program to execute; a program without a `/` is searched in the task's `PATH`.
    public var value: String?
    /// For `shell == false`: the complete argument vector, `arguments[0]` being `argv[0]`.
    /// Empty means `[value]`. Ignored for shell commands.
    public var arguments: [String]
    /// The task's complete environment; nothing of the agent's own environment is inherited.
    /// The caller merges the `MESOS_*` variables in; isolators may add more through ``LaunchHooks``.
    public var environment: [String: String]
    /// When set and the agent runs as root, the task runs as this user (with its primary and supplementary groups).
    public var user: String?

    /// Creates a command; the defaults describe a shell command with an empty environment.
    public init(
        shell: Bool = true, value: String?, arguments: [String] = [], environment: [String: String] = [:], user: String? = nil
    ) {
        self.shell = shell
        self.value = value
        self.arguments = arguments
        self.environment = environment
        self.user = user
    }
}
