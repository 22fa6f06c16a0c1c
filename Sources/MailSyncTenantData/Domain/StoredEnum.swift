/// A domain enum kept in a column of a company's or the control database as a stable text code
/// owned by this module (`'enabled'`, `'connection_issue'`, `'gmail'`): each case has one code,
/// written once in its enum's declaration. A code this build does not know, or a value that is
/// not text (such as a number an unmigrated file kept), decodes to nothing, which ``RowReader``
/// reports as a corrupt row naming table, column and row.
///
/// Codes are lower-case ASCII letters, digits and `_` (checked by the tests), so they can be put
/// into SQL as quoted literals (``storedList(_:)``). They never change once written: renaming a
/// code needs a migration. They are independent of the wire schema's enum numbers; the service
/// converts between these enums and the generated wire enums by case, never by number.
///
/// The columns keep their declared `INTEGER` type (except `plans.plan`, rebuilt as `TEXT`):
/// SQLite's INTEGER affinity converts only text that looks like a number, so a code such as
/// `'enabled'` is stored as text unchanged (tenant migration 12 and control migration 4 rewrote
/// the numbers earlier versions stored).
package protocol StoredEnum: CaseIterable, Sendable, Hashable {
    /// The code written to SQLite.
    var stored: String { get }
    /// What the value is, for error messages ("mailbox status").
    static var storedName: String { get }
}

extension StoredEnum {
    package init?(stored: String) {
        guard let match = Self.allCases.first(where: { $0.stored == stored }) else { return nil }
        self = match
    }

    /// The codes of `values` as quoted SQL literals, comma-separated, for an `IN (…)` list.
    package static func storedList(_ values: [Self]) -> String {
        values.map { "'\($0.stored)'" }.joined(separator: ", ")
    }
}

extension StoredEnum where Self: RawRepresentable, RawValue == String {
    package var stored: String { rawValue }
}
