/// `validate()` for messages whose schema declares bounds, on a field or at any depth below one.
extension SwiftEmitter {
    func bounds(of field: FieldDecl) -> FieldBounds {
        FieldBounds.resolve(field, isEnum: { symbols[$0] == .enum }).bounds
    }

    func intervals(of message: MessageDecl) -> [IntervalBounds] {
        message.intervals.compactMap { IntervalBounds.resolve($0, in: message).bounds }
    }

    /// Names of the messages that need a generated `validate()`: those with bounds or intervals,
    /// and those holding (at any depth, through any field shape) a message that does.
    func messagesNeedingValidation() -> Set<String> {
        var result: Set<String> = []
        for message in file.messages
        where !message.intervals.isEmpty || message.fields.contains(where: { !bounds(of: $0).isEmpty }) {
            result.insert(message.name)
        }
        var changed = true
        while changed {
            changed = false
            for message in file.messages where !result.contains(message.name) {
                let holds = message.fields.contains { field in
                    if case .message(let name) = coding(of: field).element { result.contains(name) } else { false }
                }
                if holds {
                    result.insert(message.name)
                    changed = true
                }
            }
        }
        return result
    }

    func emitValidate(_ message: MessageDecl, needing: Set<String>, into w: inout CodeWriter) {
        w.line("/// Checks the bounds the schema declares (see the fields' docs), at every depth.")
        w.block("public func validate() throws(BoundsViolation) {") { w in
            for field in message.fields {
                let coding = coding(of: field)
                let b = bounds(of: field)
                let value = "self.\(Self.property(field))"
                let name = field.name
                let nestedMessage: Bool = if case .message(let m) = coding.element { needing.contains(m) } else { false }
                let elementChecks = { (v: String, path: String) -> [String] in
                    var lines: [String] = []
                    if let n = b.maxLength { lines.append("try Bounds.length(\(v), max: \(n), field: \(path))") }
                    if let r = b.range {
                        if r.isTimestamp {
                            lines.append("try Bounds.range(\(v), \(r.low), \(r.high), spelled: \"\(r.spelled)\", field: \(path))")
                        } else {
                            lines.append("try Bounds.range(\(v), \(r.low), \(r.high), field: \(path))")
                        }
                    }
                    if b.knownValues { lines.append("try Bounds.knownValue(\(v), field: \(path))") }
                    if nestedMessage { lines.append("try Bounds.nested(\(v), field: \(path))") }
                    return lines
                }
                switch coding.shape {
                case .singular:
                    for line in elementChecks(value, "\"\(name)\"") { w.line(line) }
                case .optional:
                    let lines = elementChecks("value", "\"\(name)\"")
                    if !lines.isEmpty {
                        w.block("if let value = \(value) {") { w in for line in lines { w.line(line) } }
                    }
                case .repeated:
                    if let n = b.maxCount { w.line("try Bounds.count(\(value).count, max: \(n), field: \"\(name)\")") }
                    let lines = elementChecks("element", "\"\(name)[\\(index)]\"")
                    if !lines.isEmpty {
                        w.block("for (index, element) in \(value).enumerated() {") { w in for line in lines { w.line(line) } }
                    }
                case .map(let key):
                    if let n = b.maxCount { w.line("try Bounds.count(\(value).count, max: \(n), field: \"\(name)\")") }
                    let keyText = key == .string ? "key.prefix(40)" : "key"
                    var lines = elementChecks("element", "\"\(name)[\\(\(keyText))]\"")
                    if let n = b.maxKeyLength {
                        lines.insert("try Bounds.length(key, max: \(n), field: \"\(name) key\")", at: 0)
                    }
                    if !lines.isEmpty {
                        w.block("for (key, element) in \(value) {") { w in for line in lines { w.line(line) } }
                    }
                }
            }
            for interval in intervals(of: message) {
                let start = "self.\(Self.property(interval.start))"
                let end = "self.\(Self.property(interval.end))"
                let days = interval.maxDays.map { "\($0)" } ?? "nil"
                let fields = "startField: \"\(interval.start.name)\", endField: \"\(interval.end.name)\""
                let call = { (s: String, e: String) in "try Bounds.interval(\(s), \(e), maxDays: \(days), \(fields))" }
                // An end at its default (nil, or the epoch for a singular field) is absent: the
                // interval is then not checked (whether a field is required is the handler's rule).
                var conditions: [String] = []
                let startValue = interval.start.label == .optional ? "start" : start
                let endValue = interval.end.label == .optional ? "end" : end
                conditions.append(interval.start.label == .optional ? "let start = \(start)" : "\(start) != .epoch")
                conditions.append(interval.end.label == .optional ? "let end = \(end)" : "\(end) != .epoch")
                w.block("if \(conditions.joined(separator: ", ")) {") { w in
                    w.line(call(startValue, endValue))
                }
            }
        }
    }
}
