/// A test seam: called with a path on the thread that is about to write it durably (fsync, `AtomicFile`), so that a
/// test can check `Blocking.isOnPool` there. Nil outside tests.
typealias DurableWriteProbe = @Sendable (_ path: String) -> Void
