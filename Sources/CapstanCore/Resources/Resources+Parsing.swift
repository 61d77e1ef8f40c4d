/// Parsing of the agent's `--resources` flag.
extension Resources {
    /// Parses the agent flag format:
    /// `"cpus:2;mem:1024;disk:4096;ports:[31000-32000, 33000-33010];gpus:0;cpus(web):1;zones:{a,b}"`.
    ///
    /// Items are `name[(role)]:value` separated by `;`; a value is a non-negative number, a list
    /// of inclusive ranges in brackets, or a set in braces. Repeated items add up, and zero
    /// scalars are dropped, as in Mesos.
    public static func parse(_ text: String) throws(ResourceParseError) -> Resources {
        let scanner = FlagScanner(text)
        var parsed: [Resource] = []
        for item in scanner.items() {
            parsed.append(try parseItem(item, scanner))
        }
        return Resources(parsed)
    }

    private static func parseItem(_ item: Range<Int>, _ scanner: FlagScanner) throws(ResourceParseError) -> Resource {
        guard let colon = scanner.firstIndex(of: ":", in: item) else {
            throw scanner.error(at: item.upperBound, "expected ':' after the resource name")
        }
        var label = scanner.trim(item.lowerBound..<colon)
        var role = Resource.unreservedRole
        if let open = scanner.firstIndex(of: "(", in: label) {
            guard scanner.characters[label.upperBound - 1] == ")" else {
                throw scanner.error(at: label.upperBound, "expected ')' after the role")
            }
            let roleRange = scanner.trim((open + 1)..<(label.upperBound - 1))
            guard !roleRange.isEmpty else { throw scanner.error(at: open + 1, "expected a role name") }
            try checkName(roleRange, scanner, what: "role")
            role = scanner.string(roleRange)
            label = scanner.trim(label.lowerBound..<open)
        }
        guard !label.isEmpty else { throw scanner.error(at: item.lowerBound, "expected a resource name") }
        try checkName(label, scanner, what: "resource name")
        let name = scanner.string(label)

        let valueRange = scanner.trim((colon + 1)..<item.upperBound)
        guard let first = valueRange.first.map({ scanner.characters[$0] }) else {
            throw scanner.error(at: valueRange.lowerBound, "expected a value")
        }
        switch first {
        case "[":
            return .ranges(name, try scanner.parseRanges(valueRange), role: role)
        case "{":
            return .set(name, try scanner.parseSet(valueRange), role: role)
        default:
            guard let quantity = scanner.number(valueRange) else {
                throw scanner.error(at: valueRange.lowerBound, "expected a number")
            }
            guard quantity >= 0 else {
                throw scanner.error(at: valueRange.lowerBound, "expected a non-negative number")
            }
            return .scalar(name, quantity, role: role)
        }
    }

    /// Names and roles may not hold spaces or the separators of the format.
    private static func checkName(
        _ range: Range<Int>, _ scanner: FlagScanner, what: String
    ) throws(ResourceParseError) {
        if let bad = range.first(where: { " \t()[]{}:;,".contains(scanner.characters[$0]) }) {
            throw scanner.error(at: bad, "unexpected '\(scanner.characters[bad])' in \(what)")
        }
    }
}
