import Foundation

/// The name an image imported without one is stored under (`capstan image import oci:PATH` with no NAME).
///
/// An OCI layout names its images in the `org.opencontainers.image.ref.name` annotation, which tools fill either with a
/// whole reference (`example.com/app:2`) or, as skopeo does, with a tag alone (`latest`, `1.0`). A whole reference is
/// the name; a tag alone is the tag of a repository named after the layout's directory (or the archive's file,
/// without `.tar`, `.tar.gz`, `.tgz` or `.tar.zst`); no annotation at all takes that repository with `latest`.
enum ImportName {
    /// The stored name for a layout known as `fileName` whose chosen image carries `refName`; nil when the file
    /// name holds nothing usable as a repository name (then the user must give one).
    static func suggested(fileName: String, refName: String?) -> String? {
        if let refName, refName.contains("/") || refName.contains(":"),
            (try? RegistryReference(parsing: refName)) != nil {
            return refName
        }
        guard let repository = repository(fromFileName: fileName) else { return nil }
        if let refName, (try? RegistryReference(parsing: repository + ":" + refName)) != nil {
            return repository + ":" + refName
        }
        return repository
    }

    /// `fileName` as a repository name: archive extensions dropped, lowercased, every character a repository
    /// name may not hold turned into `-`, and separators trimmed from both ends.
    static func repository(fromFileName fileName: String) -> String? {
        var base = Substring(fileName.split(separator: "/").last ?? "")
        for suffix in [".tar.gz", ".tar.zst", ".tgz", ".tar"] where base.lowercased().hasSuffix(suffix) {
            base = base.dropLast(suffix.count)
            break
        }
        let mapped = String(base.lowercased().map { c -> Character in
            (c.isASCII && (c.isLetter || c.isNumber)) || c == "." || c == "_" || c == "-" ? c : "-"
        })
        let trimmed = mapped.trimmingCharacters(in: CharacterSet(charactersIn: ".-_"))
        guard !trimmed.isEmpty, (try? RegistryReference(parsing: trimmed)) != nil else { return nil }
        return trimmed
    }
}
