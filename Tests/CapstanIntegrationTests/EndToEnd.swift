import Testing

/// All end-to-end suites start real `capstan` processes; they run one at a time so their timing assumptions
/// (heartbeats, grace periods) hold on a 2-core machine.
@Suite("End to end", .serialized)
enum EndToEnd {}
