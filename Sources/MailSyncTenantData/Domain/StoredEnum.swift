/// A domain enum kept in an INTEGER column: each case has one stored number, and a number this
/// build does not know decodes to nothing (``RowReader`` reports it as a corrupt row).
///
/// The stored numbers are the tenant files' own, independent of the wire schema's numbering: the
/// service converts between these enums and the generated wire enums by case, never by number.
package protocol StoredEnum: CaseIterable, Sendable, Hashable {
    /// The number written to SQLite.
    var stored: Int64 { get }
    /// What the value is, for error messages ("mailbox status").
    static var storedName: String { get }
}

extension StoredEnum {
    package init?(stored: Int64) {
        guard let match = Self.allCases.first(where: { $0.stored == stored }) else { return nil }
        self = match
    }

    /// The stored numbers of `values`, comma-separated, for an `IN (…)` list.
    package static func storedList(_ values: [Self]) -> String {
        values.map { String($0.stored) }.joined(separator: ", ")
    }
}

extension StoredEnum where Self: RawRepresentable, RawValue == Int64 {
    package var stored: Int64 { rawValue }
}
