import Foundation
import Glibc

/// `waitpid(pid)` for tests that stand in for a dead agent's parent (init): on a thread of its own, because a
/// blocking wait on the cooperative pool (two threads on a two-core machine) starves every other task.
func waitpidOnItsOwnThread(_ pid: Int32) -> Task<Void, Never> {
    Task {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                continuation.resume()
            }
            thread.name = "test-waitpid"
            thread.start()
        }
    }
}
