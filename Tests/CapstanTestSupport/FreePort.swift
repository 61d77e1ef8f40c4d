/// Finds TCP ports on 127.0.0.1 that are free right now (the kernel picks them).
public enum FreePort {
    public static func next() -> Int { LoopbackSocket.freePort() }
}
