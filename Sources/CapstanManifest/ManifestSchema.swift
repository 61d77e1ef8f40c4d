/// Placeholder: the schema builder lands in stage 3.
public enum ManifestSchema {
    public static var json: String { "{}" }
}
