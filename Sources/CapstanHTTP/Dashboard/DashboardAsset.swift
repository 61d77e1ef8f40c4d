import HTTPTypes
import Hummingbird
import NIOCore

/// The web dashboards' responses: HTML, script and style sheets compiled into the binary (no files on disk, no CDN),
/// each served with a strict Content-Security-Policy. The pages load their script and styles from the same origin
/// and build every element with `textContent`, so data (task IDs, labels, commit messages) never becomes markup.
public enum DashboardAsset {
    /// Only same-origin scripts, styles and connections; no inline script or style, no plugins, no framing.
    public static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    public static func html(_ text: String) -> Response { response(text, type: "text/html; charset=utf-8") }
    public static func javascript(_ text: String) -> Response { response(text, type: "text/javascript; charset=utf-8") }
    public static func css(_ text: String) -> Response { response(text, type: "text/css; charset=utf-8") }

    static func response(_ text: String, type: String) -> Response {
        var headers: HTTPFields = [.contentType: type, .cacheControl: "no-cache"]
        headers[HTTPField.Name("Content-Security-Policy")!] = contentSecurityPolicy
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Serves the shared style sheet and helper script at `/dashboard/common.css` and `/dashboard/common.js`, and
    /// each of `scripts` (name → source) at `/dashboard/<name>`.
    public static func registerAssets<Context: RequestContext>(on router: Router<Context>, scripts: [String: String]) {
        router.get("dashboard/common.css") { _, _ in css(DashboardCommon.css) }
        router.get("dashboard/common.js") { _, _ in javascript(DashboardCommon.script) }
        for (name, source) in scripts {
            router.get(RouterPath("dashboard/" + name)) { _, _ in javascript(source) }
        }
    }

    /// A page skeleton: `<head>` with the shared assets and `script`, then `body` (static markup only, no data).
    public static func page(title: String, script: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(title)</title>
        <link rel="stylesheet" href="/dashboard/common.css">
        <script src="/dashboard/common.js" defer></script>
        <script src="/dashboard/\(script)" defer></script>
        </head>
        <body>
        \(body)
        </body>
        </html>

        """
    }
}
