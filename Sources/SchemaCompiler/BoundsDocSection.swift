/// The "Request bounds" section of `docs/authorization.md`: for every request message (and the
/// messages nested in one), the bounds its fields declare, in schema order. Output depends only on
/// the checked schemas.
struct BoundsDocSection {
    let files: [SchemaFile]

    func lines() -> [String] {
        var lines = [
            "",
            "## Request bounds",
            "",
            "What a caller may send, generated from the field options and `interval` declarations of the schema",
            "(syntax: `Schema/README.md`, \"Bounds\"). After the role check, the server decodes the request and",
            "checks these bounds at every depth before the handler runs; a request outside them fails with",
            "`invalid argument` naming the field and the bound (`kinds has 1000001 elements; at most 64`). Lengths",
            "are UTF-8 bytes. Handlers apply their own rules within them (formats, required fields, characters).",
        ]
        for file in files {
            let messages = Dictionary(file.messages.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            let requests = Self.requestMessages(file, messages: messages)
            for message in file.messages where requests.contains(message.name) {
                lines.append("")
                lines.append("### `\(message.name)`")
                lines.append("")
                let used = file.services.flatMap(\.rpcs).filter { $0.request == message.name }.map { "`\($0.name)`" }
                if !used.isEmpty { lines.append("Request of \(used.joined(separator: ", ")).") }
                else { lines.append("Nested in a request.") }
                for interval in message.intervals.compactMap({ IntervalBounds.resolve($0, in: message).bounds }) {
                    lines.append("")
                    lines.append(interval.summary)
                }
                if message.fields.isEmpty {
                    lines.append("")
                    lines.append("No fields.")
                    continue
                }
                lines.append("")
                lines.append("| Field | Type | Bounds |")
                lines.append("|-------|------|--------|")
                for field in message.fields {
                    let type = (field.label == .singular ? "" : field.label.rawValue + " ") + field.type.spelling
                    var summary = file.bounds(of: field).summary(for: field)
                    if summary.hasPrefix("Bounds: ") { summary = String(summary.dropFirst(8)) }
                    if summary.isEmpty {
                        summary = Self.implicit(field, messages: messages)
                    }
                    lines.append("| `\(field.name)` | `\(type)` | \(AuthorizationDocEmitter.escaped(summary)) |")
                }
            }
        }
        return lines
    }

    /// What bounds a field without options: its type, or its message's own bounds.
    static func implicit(_ field: FieldDecl, messages: [String: MessageDecl]) -> String {
        switch field.type {
        case .named(let name, _) where messages[name] != nil: "see `\(name)`"
        case .scalar(.bool, _): "—"
        case .named: "any value (handlers check enums)"
        default: "the type's range"
        }
    }

    /// Request types and every message reachable from one.
    static func requestMessages(_ file: SchemaFile, messages: [String: MessageDecl]) -> Set<String> {
        var result: Set<String> = []
        var queue = file.services.flatMap(\.rpcs).map(\.request)
        while let name = queue.popLast() {
            guard let message = messages[name], result.insert(name).inserted else { continue }
            for field in message.fields {
                switch field.type {
                case .named(let n, _), .map(_, .named(let n, _), _): queue.append(n)
                default: break
                }
            }
        }
        return result
    }
}
