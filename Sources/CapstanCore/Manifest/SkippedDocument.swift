/// A YAML document that is not a Capstan manifest (another tool's file in the same repository): its `apiVersion` is
/// set and not `capstan/…`, or it has neither `apiVersion` nor `kind`. It is skipped, not reported as an error, by
/// `capstan validate`, `capstan diff` and the reconciler alike (one loader).
public struct SkippedDocument: Sendable, Hashable, CustomStringConvertible {
    /// Where the document starts.
    public var location: SourceLocation
    public var apiVersion: String?
    public var kind: String?

    public init(location: SourceLocation, apiVersion: String?, kind: String?) {
        self.location = location
        self.apiVersion = apiVersion
        self.kind = kind
    }

    /// `skipped: k8s/deploy.yaml:1 (apiVersion apps/v1, kind Deployment: not a Capstan manifest)`.
    public var description: String {
        "skipped: \(location.file):\(location.line) (apiVersion \(apiVersion ?? "(none)"), kind \(kind ?? "(none)"): not a Capstan manifest)"
    }

    /// Whether a document with these top-level values is someone else's: an `apiVersion` that is not `capstan/…`, or
    /// neither field.
    public static func isForeign(apiVersion: String?, kind: String?) -> Bool {
        if let apiVersion { return !apiVersion.hasPrefix("capstan/") }
        return kind == nil
    }
}
