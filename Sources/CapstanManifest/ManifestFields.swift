/// The keys each mapping of the format accepts. The decoder rejects any other key, and
/// ``ManifestSchema`` lists exactly these properties, so the two cannot drift apart.
public enum ManifestFields {
    public static let document = ["apiVersion", "kind", "metadata", "spec"]
    public static let metadata = ["name", "labels"]
    public static let spec = [
        "image", "command", "args", "env", "instances", "resources", "network", "volumes", "health", "update",
        "backoff", "killGracePeriod", "constraints", "dependsOn", "user", "devices",
    ]
    public static let resources = ["cpus", "mem", "disk", "gpus"]
    public static let network = ["name", "ports"]
    public static let port = ["name", "container", "host", "protocol"]
    public static let volume = ["path", "persistent", "host", "docker", "readOnly"]
    public static let persistentVolume = ["size", "destroy"]
    public static let dockerVolume = ["driver", "name"]
    public static let health = ["http", "tcp", "command", "interval", "timeout", "gracePeriod", "maxFailures"]
    public static let httpCheck = ["port", "path"]
    public static let tcpCheck = ["port"]
    public static let update = ["minHealthy", "maxSurge", "progressDeadline", "autoRevert"]
    public static let backoff = ["delay", "factor", "max"]
    public static let constraint = ["hostname", "attribute", "unique", "equals", "like", "maxPer"]

    /// The one `apiVersion` this format has.
    public static let apiVersion = "capstan/v1"
}
