import CapstanAPI
import CapstanCore

extension Agent {
    /// The user a task or custom executor of `frameworkID` runs as, with Mesos' `--switch_user` semantics:
    /// `CommandInfo.user`, else `FrameworkInfo.user`. `nil` when the agent runs with `--no-switch-user` or neither
    /// names one: then the task runs as the agent's own user, or a task from an image as the image's USER.
    /// Root only when asked: a framework or command naming `root`, or an agent that does not switch users.
    func runAsUser(_ command: CommandInfo?, frameworkID: FrameworkID) -> String? {
        guard configuration.switchUser else { return nil }
        if let user = command?.user, !user.isEmpty { return user }
        if let user = frameworks[frameworkID]?.info.user, !user.isEmpty { return user }
        return nil
    }

    /// The variables that describe the agent's own login, which a task that runs as another user (or in an image,
    /// with a passwd of its own) must not inherit: the launcher sets them for the task's user instead.
    static let loginVariables = ["HOME", "USER", "LOGNAME"]
}
