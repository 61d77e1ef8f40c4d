import CapstanCore
import CapstanGit
import Foundation

/// What a GitHub-style push payload says was pushed: an optional hint (the reconciler fetches and
/// resolves its configured revision anyway; the payload is not trusted beyond its signature).
public struct WebhookPush: Hashable, Sendable {
    /// The full ref, e.g. `refs/heads/main` or `refs/tags/v1`.
    public var ref: String
    /// The commit the ref points to after the push; nil when the push deleted the ref.
    public var after: CommitID?

    public init(ref: String, after: CommitID?) {
        self.ref = ref
        self.after = after
    }

    /// The branch name for a `refs/heads/…` ref, else nil.
    public var branch: String? {
        ref.hasPrefix("refs/heads/") ? String(ref.dropFirst("refs/heads/".count)) : nil
    }

    /// Whether the push deleted the ref.
    public var deleted: Bool { after == nil }

    /// Reads `ref` and `after` from a push payload (JSON); nil when the body is not one (a ping, another event, not JSON).
    public static func parse<Body: DataProtocol>(_ body: Body) -> WebhookPush? {
        guard let payload = try? JSONDecoder().decode(PushPayload.self, from: Data(body)), let ref = payload.ref,
            ref.hasPrefix("refs/")
        else { return nil }
        var after: CommitID?
        if let hex = payload.after, CommitID.isFullHex(hex), hex.contains(where: { $0 != "0" }) {
            after = CommitID(hex: hex)
        }
        return WebhookPush(ref: ref, after: after)
    }

    /// Whether this push touched the branch or tag `revision` names (`main`, `refs/heads/main`, `v1`).
    public func concerns(revision: String) -> Bool {
        if revision == ref { return true }
        return ref == "refs/heads/\(revision)" || ref == "refs/tags/\(revision)"
    }
}

/// The two fields of a push payload ``WebhookPush`` reads.
private struct PushPayload: Decodable {
    var ref: String?
    var after: String?
}
