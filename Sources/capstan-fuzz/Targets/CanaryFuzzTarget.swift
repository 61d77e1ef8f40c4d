import Foundation

/// A target that fails on purpose, to test the harness itself: an input starting with `crash` traps, one
/// starting with `hang` never returns, one starting with `finding` breaks an invariant.
struct CanaryFuzzTarget: FuzzTarget {
    let maximumLength = 64
    let dictionary: [[UInt8]] = []

    func run(_ input: [UInt8]) throws(FuzzFinding) {
        if input.starts(with: Array("crash".utf8)) { fatalError("canary: crash on purpose") }
        if input.starts(with: Array("hang".utf8)) { while true { sleep(1) } }
        if input.starts(with: Array("finding".utf8)) { throw FuzzFinding("canary: an invariant broke on purpose") }
    }
}
