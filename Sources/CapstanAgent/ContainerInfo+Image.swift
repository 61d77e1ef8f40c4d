import CapstanAPI

extension ContainerInfo {
    /// The image a task names (type MESOS with a DOCKER image), as an image reference; `nil` when it names none.
    var imageReference: String? {
        guard let name = mesos?.image?.docker?.name, !name.isEmpty else { return nil }
        for scheme in ["docker://", "oci:", "oci-archive:", "docker-archive:"] where name.hasPrefix(scheme) { return name }
        return "docker://" + name
    }
}
