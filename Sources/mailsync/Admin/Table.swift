/// A plain text table for people: a header row, aligned columns, and "(none)" when empty.
struct Table {
    var columns: [String]
    var rows: [[String]]

    init(_ columns: [String], _ rows: [[String]]) {
        self.columns = columns
        self.rows = rows
    }

    /// A two-column table of field names and values, for one object.
    static func fields(_ pairs: [(String, String)]) -> Table {
        Table(["FIELD", "VALUE"], pairs.map { [$0.0, $0.1] })
    }

    func render() -> String {
        guard !rows.isEmpty else { return columns.joined(separator: "  ") + "\n(none)\n" }
        var widths = columns.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], min(cell.count, 60))
            }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                let text = cell.count > 60 ? String(cell.prefix(59)) + "…" : cell
                return index == cells.count - 1 ? text : text.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return ([line(columns)] + rows.map(line)).joined(separator: "\n") + "\n"
    }
}
