import MailSyncStorage
@testable import MailSyncTenantData
import Testing

/// ``RowReader``: every value a row holds is read by name and checked; what the schema does not
/// allow is an error naming table, column and row, never a default.
@Suite("Row decoding: by column name, failing loudly")
struct RowReaderTests {
    static func reader(_ values: [String: SQLiteValue], table: String = "mailboxes") -> RowReader {
        let names = values.keys.sorted()
        return RowReader(Row(columns: names, values: names.map { values[$0] ?? .null }), table: table)
    }

    static func corrupt(_ body: () throws -> Void) -> TenantDataError? {
        do {
            try body()
            return nil
        } catch let error as TenantDataError {
            return error
        } catch {
            return nil
        }
    }

    @Test("good values are read by name, whatever the column order")
    func goodRow() throws {
        let r = Self.reader(["id": .text("m1"), "status": .text("enabled"), "port": .integer(993), "active": .integer(1), "secret": .blob([1, 2])])
        #expect(try r.string("id") == "m1")
        #expect(try r.value("status") as MailboxRecord.Status == .enabled)
        #expect(try r.integer("port", as: UInt32.self) == 993)
        #expect(try r.bool("active"))
        #expect(try r.optionalBytes("secret") == [1, 2])
    }

    @Test("NULL where a value must be: the error names table, column and row")
    func nullRequired() throws {
        let r = Self.reader(["id": .text("m1"), "email_address": .null])
        let error = Self.corrupt { _ = try r.string("email_address") }
        #expect(error?.kind == .corruptRow)
        #expect(error?.message == "mailboxes.email_address of row 'm1' is NULL; it must be text")
        #expect(try r.optionalString("email_address") == nil)
    }

    @Test("an enum value this build does not know is refused, not defaulted")
    func unknownEnum() {
        let r = Self.reader(["id": .text("m1"), "status": .text("paused")])
        let error = Self.corrupt { _ = try r.value("status") as MailboxRecord.Status }
        #expect(error?.kind == .corruptRow)
        #expect(error?.message == "mailboxes.status of row 'm1' is 'paused', not a known mailbox status")
    }

    @Test("a number where an enum code must be (a row no migration rewrote) is refused, not read as a code")
    func numberForEnum() {
        let r = Self.reader(["seq": .integer(3), "kind": .integer(2), "status": .null], table: "sync_events")
        let number = Self.corrupt { _ = try r.value("kind") as SyncEventRecord.Kind }
        #expect(number?.kind == .corruptRow)
        #expect(number?.message == "sync_events.kind of row '3' is the number 2, not a known sync event kind code")
        #expect(Self.corrupt { _ = try r.value("status") as MailboxRecord.Status }?.message
            == "sync_events.status of row '3' is NULL, not a mailbox status")
    }

    @Test("every stored code is lower-case ASCII letters, digits or '_', unique within its enum")
    func codesAreSafeLiterals() {
        func check<E: StoredEnum>(_ type: E.Type) {
            let codes = E.allCases.map(\.stored)
            #expect(Set(codes).count == codes.count, "\(E.storedName)")
            for code in codes {
                #expect(!code.isEmpty && code.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F },
                        "\(E.storedName): \(code)")
            }
        }
        check(MailboxRecord.Status.self)
        check(MailboxRecord.Provider.self)
        check(MailboxRecord.AuthMethod.self)
        check(ServerAddress.Security.self)
        check(UserRecord.Role.self)
        check(SyncEventRecord.Kind.self)
        check(ErrorLogRecord.ErrorClass.self)
        check(LeadRecords.OpportunityStatus.self)
        check(CompanyPlan.self)
        check(CompanyRecord.State.self)
        check(TimelineEntryRecord.DateSource.self)
        // MailSyncMatching's enums, named through the records that hold them.
        func check<Root, E: StoredEnum>(_ path: KeyPath<Root, E>) { check(E.self) }
        check(\TimelineEntryRecord.direction)
        check(\TimelineEntryRecord.Participant.kind)
    }

    @Test("wrong type, out of range, a flag other than 0 or 1, a missing column: each refused by name")
    func otherBadValues() {
        let r = Self.reader(["seq": .integer(7), "count": .integer(-1), "flag": .integer(2), "name": .integer(3)], table: "sync_events")
        #expect(Self.corrupt { _ = try r.integer("count", as: UInt32.self) }?.message == "sync_events.count of row '7' is -1, out of range for UInt32")
        #expect(Self.corrupt { _ = try r.bool("flag") }?.message == "sync_events.flag of row '7' is 2; it must be 0 or 1")
        #expect(Self.corrupt { _ = try r.string("name") }?.message == "sync_events.name of row '7' is not text")
        #expect(Self.corrupt { _ = try r.int64("absent") }?.message == "sync_events.absent of row '7' is not in the query's result")
    }
}
