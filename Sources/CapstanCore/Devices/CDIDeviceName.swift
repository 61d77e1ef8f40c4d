/// A CDI kind, `vendor.com/class`: the vendor is a DNS-style name (letters, digits, `-`, `_`, `.`; starting with a
/// letter and ending with a letter or digit; at most 253 characters), the class the same with at most 63.
public struct CDIKind: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let vendor: String
    public let `class`: String

    /// Parses and checks `vendor.com/class`; the message says which part is wrong and why.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw CapstanError(.invalidArgument, "kind '\(Self.shown(text))' is not of the form vendor.com/class (exactly one '/')")
        }
        if let problem = Self.problem(String(parts[0]), limit: 253) {
            throw CapstanError(.invalidArgument, "the vendor of kind '\(Self.shown(text))' \(problem)")
        }
        if let problem = Self.problem(String(parts[1]), limit: 63) {
            throw CapstanError(.invalidArgument, "the class of kind '\(Self.shown(text))' \(problem)")
        }
        vendor = String(parts[0])
        `class` = String(parts[1])
    }

    public var description: String { "\(vendor)/\(`class`)" }

    public static func < (lhs: CDIKind, rhs: CDIKind) -> Bool { lhs.description < rhs.description }

    private static func problem(_ part: String, limit: Int) -> String? {
        let bytes = Array(part.utf8)
        if bytes.count > limit { return "is longer than \(limit) characters" }
        guard let first = bytes.first, let last = bytes.last, isLetter(first) else { return "must start with a letter" }
        guard isAlphanumeric(last) else { return "must end with a letter or digit" }
        if let bad = part.unicodeScalars.first(where: { !($0.isASCII && (isAlphanumeric(UInt8($0.value)) || "-_.".unicodeScalars.contains($0))) }) {
            return "holds '\(shownScalar(bad))'; only letters, digits, '-', '_' and '.' are allowed"
        }
        return nil
    }

    public static func shown(_ text: String) -> String { text.count > 80 ? String(text.prefix(80)) + "…" : text }
}

/// A fully qualified CDI device name, `vendor.com/class=name`, as a task or manifest asks for a device.
public struct CDIDeviceName: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let kind: CDIKind
    public let name: String

    /// A device of `kind` named `name` (checked as ``CDIDeviceName/checkName(_:)`` checks it).
    public init(kind: CDIKind, name: String) throws {
        if let problem = Self.nameProblem(name) {
            throw CapstanError(.invalidArgument, "device name '\(CDIKind.shown(name))' \(problem)")
        }
        self.kind = kind
        self.name = name
    }

    /// Parses `vendor.com/class=name`; the message names the whole text and what is wrong with it.
    public init(parsing text: String) throws {
        guard let equals = text.firstIndex(of: "=") else {
            throw CapstanError(
                .invalidArgument, "CDI device '\(CDIKind.shown(text))' is not fully qualified: expected vendor.com/class=name")
        }
        do {
            let kind = try CDIKind(parsing: String(text[..<equals]))
            try self.init(kind: kind, name: String(text[text.index(after: equals)...]))
        } catch let error as CapstanError {
            throw CapstanError(.invalidArgument, "CDI device '\(CDIKind.shown(text))': \(error.message)")
        }
    }

    public var description: String { "\(kind)=\(name)" }

    public static func < (lhs: CDIDeviceName, rhs: CDIDeviceName) -> Bool { lhs.description < rhs.description }

    /// Why `name` is not a valid device name, or nil: letters, digits, `-`, `_`, `.` and `:`, starting and ending
    /// with a letter or digit, at most 253 characters. (A leading digit needs cdiVersion 0.5.0; the spec decoder
    /// checks that.)
    public static func nameProblem(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, let last = bytes.last else { return "is empty" }
        if bytes.count > 253 { return "is longer than 253 characters" }
        guard isAlphanumeric(first) else { return "must start with a letter or digit" }
        guard isAlphanumeric(last) else { return "must end with a letter or digit" }
        if let bad = name.unicodeScalars.first(where: { !($0.isASCII && (isAlphanumeric(UInt8($0.value)) || "-_.:".unicodeScalars.contains($0))) }) {
            return "holds '\(shownScalar(bad))'; only letters, digits, '-', '_', '.' and ':' are allowed"
        }
        return nil
    }
}

private func isLetter(_ byte: UInt8) -> Bool {
    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
}

private func isAlphanumeric(_ byte: UInt8) -> Bool { isLetter(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

/// A character for an error message: control and non-ASCII characters as `U+XXXX`.
private func shownScalar(_ scalar: Unicode.Scalar) -> String {
    scalar.isASCII && scalar.value >= 0x20 && scalar.value < 0x7F ? String(Character(scalar)) : "U+" + String(scalar.value, radix: 16, uppercase: true)
}
