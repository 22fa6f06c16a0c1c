import MailSyncClient
import MailSyncCoding
import MailSyncMatching
import MailSyncTenantData
import MailSyncEngine

// Sync events, the error log and the timeline between the wire and the tenant data, by case.

extension SyncEventKind {
    init(_ kind: SyncEventRecord.Kind) {
        switch kind {
        case .connected: self = .connected
        case .syncStarted: self = .syncStarted
        case .syncCompleted: self = .syncCompleted
        case .emailRecorded: self = .emailRecorded
        case .smartMailSent: self = .smartMailSent
        case .statusChanged: self = .statusChanged
        case .error: self = .error
        case .disabled: self = .disabled
        case .deferred: self = .deferred
        }
    }
}

extension SyncEventRecord.Kind {
    init?(_ kind: SyncEventKind) {
        switch kind {
        case .connected: self = .connected
        case .syncStarted: self = .syncStarted
        case .syncCompleted: self = .syncCompleted
        case .emailRecorded: self = .emailRecorded
        case .smartMailSent: self = .smartMailSent
        case .statusChanged: self = .statusChanged
        case .error: self = .error
        case .disabled: self = .disabled
        case .deferred: self = .deferred
        default: return nil
        }
    }
}

extension SyncEvent {
    init(_ record: SyncEventRecord) {
        self.init()
        id = record.id
        time = record.time
        kind = SyncEventKind(record.kind)
        mailboxId = record.mailboxId
        userId = record.userId
        status = record.status.map(MailboxStatus.init) ?? .unspecified
        emailsSynced = record.emailsSynced
        detail = record.detail
    }
}

extension ErrorClass {
    init(_ errorClass: ErrorLogRecord.ErrorClass) {
        switch errorClass {
        case .authentication: self = .authentication
        case .configuration: self = .configuration
        case .temporary: self = .temporary
        case .operator: self = .operator
        }
    }
}

extension ErrorLogEntry {
    init(_ record: ErrorLogRecord) {
        self.init()
        id = record.id
        firstSeen = record.firstSeen
        lastSeen = record.lastSeen
        count = record.count
        mailboxId = record.mailboxId
        userId = record.userId
        emailAddress = record.emailAddress
        errorClass = ErrorClass(record.errorClass)
        serverText = record.serverText
        fixHint = record.fixHint
        exchange = record.exchange
    }
}

extension MailDirection {
    init(_ direction: MessageDirection) {
        switch direction {
        case .sent: self = .sent
        case .received: self = .received
        }
    }
}

extension ParticipantKind {
    init(_ kind: MailParticipant.Kind) {
        switch kind {
        case .from: self = .from
        case .to: self = .to
        case .cc: self = .cc
        case .bcc: self = .bcc
        }
    }
}

extension TimelineDateSource {
    init(_ source: TimelineEntryRecord.DateSource) {
        switch source {
        case .unspecified: self = .unspecified
        case .dateHeader: self = .dateHeader
        case .serverReceived: self = .serverReceived
        case .sent: self = .sent
        }
    }
}

extension TimelineEntry {
    init(_ record: TimelineEntryRecord) {
        self.init()
        id = record.id
        leadId = record.leadId
        subject = record.subject
        date = record.date
        direction = MailDirection(record.direction)
        mailboxId = record.mailboxId
        userId = record.userId
        smartMail = record.smartMail
        dateSource = TimelineDateSource(record.dateSource)
        participants = record.participants.map { participant in
            var wire = Participant()
            wire.kind = ParticipantKind(participant.kind)
            wire.address = participant.address
            wire.displayName = participant.displayName
            return wire
        }
        userIds = record.userIds
        opportunityIds = record.opportunityIds
    }
}

extension LeadRecords.OpportunityStatus {
    init?(_ status: OpportunityStatus) {
        switch status {
        case .open: self = .open
        case .won: self = .won
        case .lost: self = .lost
        default: return nil
        }
    }
}
