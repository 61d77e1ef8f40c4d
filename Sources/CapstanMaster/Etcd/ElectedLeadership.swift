public import CapstanCore
public import CapstanHTTP

/// A leadership that has to be won (``EtcdLeadership``): the master campaigns once it listens, recovers the
/// registry that the election hands it, and only then serves as leader and runs its loops.
public protocol ElectedLeadership: Leadership {
    /// Waits until this master, reachable at `address`, is elected; returns the registry it must write through (its
    /// writes fenced on this term).
    func campaign(advertising address: HostPort) async throws -> any MasterRegistry
    /// The master recovered the registry: from now on ``Leadership/current()`` answers `.leading`.
    func serve() async
    /// Gives leadership up (graceful shutdown), so another master is elected without waiting for the lease to end.
    func resign() async
}
