import CapstanCore

/// `capstan validate --output json`: what the text output says, as one document.
struct ValidateReport: Encodable {
    struct Problem: Encodable {
        var file: String
        var line: Int
        var column: Int
        /// The field path (`spec.resources.mem`); empty for the document as a whole.
        var field: String
        var message: String
    }

    struct Skipped: Encodable {
        var file: String
        var line: Int
        var apiVersion: String?
        var kind: String?
    }

    struct Workload: Encodable {
        var name: String
        var kind: String
        var file: String
        var line: Int
    }

    var valid: Bool
    var apps: Int
    var jobs: Int
    var workloads: [Workload]
    var errors: [Problem]
    var skipped: [Skipped]

    init(_ set: ManifestSet) {
        valid = set.isValid
        let kinds = set.workloads.map(\.kind)
        apps = kinds.filter { $0 == .app }.count
        jobs = kinds.filter { $0 == .job }.count
        workloads = set.entries.map {
            Workload(name: $0.workload.name.value, kind: $0.workload.kind.rawValue, file: $0.nameLocation.file, line: $0.nameLocation.line)
        }
        errors = set.diagnostics.map {
            Problem(file: $0.file, line: $0.line, column: $0.column, field: $0.path, message: $0.message)
        }
        skipped = set.skipped.map {
            Skipped(file: $0.location.file, line: $0.location.line, apiVersion: $0.apiVersion, kind: $0.kind)
        }
    }
}
