/// A TCP port on 127.0.0.1 that is free right now (the kernel picks it), for what cannot listen on port 0 and report
/// the port it bound: external daemons a fixture starts (which must retry on a bind collision, see
/// ``PickedPort/retrying(attempts:_:)``) and the port ranges an agent offers to tasks. `capstan` servers listen on
/// port 0 with `--listen-file` (``ListenFile``); a port where nothing must answer is a ``ClosedPort``.
public enum FreePort {
    public static func next() -> Int { LoopbackSocket.freePort() }
}
