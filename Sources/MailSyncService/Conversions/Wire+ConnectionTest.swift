import MailSyncClient
import MailSyncEngine

/// The sync engine's connection test steps (``ConnectionTestSteps``) as the wire's, case by case.
extension ConnectionTestStep {
    init(_ step: ConnectionTestSteps.Step) {
        self.init()
        name = ConnectionTestStepName(step.name)
        outcome = ConnectionTestOutcome(step.outcome)
        durationMs = step.durationMs
        detail = step.detail
        hint = step.hint
        if let errorClass = step.errorClass { self.errorClass = ErrorClass(errorClass) }
    }
}

extension ConnectionTestStepName {
    init(_ name: ConnectionTestSteps.Name) {
        switch name {
        case .resolve: self = .resolve
        case .connect: self = .connect
        case .tls: self = .tls
        case .login: self = .login
        case .list: self = .list
        case .selectInbox: self = .selectInbox
        }
    }
}

extension ConnectionTestOutcome {
    init(_ outcome: ConnectionTestSteps.Outcome) {
        switch outcome {
        case .ok: self = .ok
        case .failed: self = .failed
        case .skipped: self = .skipped
        case .notApplicable: self = .notApplicable
        }
    }
}
