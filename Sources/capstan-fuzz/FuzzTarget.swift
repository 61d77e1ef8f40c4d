/// One thing the fuzzer feeds inputs to. `run` must return for every input; a broken invariant is a
/// thrown ``FuzzFinding``, and a crash is the process dying (the supervisor keeps the input either way).
protocol FuzzTarget {
    /// Tokens the mutator inserts whole (syntax that random bytes rarely produce).
    var dictionary: [[UInt8]] { get }
    /// The longest input generated.
    var maximumLength: Int { get }
    /// A structure-aware mutation; false when the target has none (the generic mutations apply).
    func mutate(_ input: inout [UInt8], using random: inout SplitMix64) -> Bool
    /// Feeds one input.
    func run(_ input: [UInt8]) throws(FuzzFinding)
}

extension FuzzTarget {
    func mutate(_ input: inout [UInt8], using random: inout SplitMix64) -> Bool { false }
}

/// An input that broke one of the target's invariants (not a crash: the process lives to report it).
struct FuzzFinding: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The targets by name.
enum FuzzTargets {
    static let names = ["manifest", "json", "recordio", "layer"]

    static func make(_ name: String, scratch: String) throws -> any FuzzTarget {
        switch name {
        case "manifest": return ManifestFuzzTarget()
        case "json": return JSONFuzzTarget()
        case "recordio": return RecordIOFuzzTarget()
        case "layer": return try LayerFuzzTarget(scratch: scratch)
        case "canary": return CanaryFuzzTarget()  // the harness' own tests
        default: throw FuzzFinding("unknown target '\(name)' (expected one of: \(names.joined(separator: ", ")))")
        }
    }
}

extension Array where Element == UInt8 {
    init(_ text: String) { self = Array(text.utf8) }
}

/// Byte strings from text, for dictionaries.
func tokens(_ texts: [String]) -> [[UInt8]] { texts.map { Array($0.utf8) } }
