import Foundation

struct Settings {
    /// Messages in the big mailbox (INBOX of `alice`).
    var messages = 20_000
    /// Distinct lead addresses; every tenth message comes from one of them.
    var leads = 200
    /// Rounds of the first sync (each side, each round).
    var rounds = 3
    /// Idle polls of the big mailbox after its first sync.
    var polls = 20
    /// Small mailboxes for the idle-fleet case (one Dovecot user each, 10 per company).
    var mailboxes = 100
    /// Timed `runDue()` passes over the idle fleet.
    var fleetRounds = 3
    /// Only this first-sync side (floor, ours, headers), no polls or fleet: for profiling.
    var only: String?
    /// Instead of everything above: memory held by this many IMAP IDLE watchers (IdleBenchmark).
    var idleWatchers: Int?
    /// Instead of everything above: memory per scheduled idle mailbox, this many (IdleFleetBenchmark).
    var idleFleet: Int?

    static func parse(_ arguments: ArraySlice<String>) -> Settings {
        var settings = Settings()
        var arguments = arguments.makeIterator()
        while let argument = arguments.next() {
            func number() -> Int {
                guard let text = arguments.next(), let value = Int(text), value > 0 else {
                    fatalError("\(argument) needs a positive number")
                }
                return value
            }
            switch argument {
            case "--messages": settings.messages = number()
            case "--leads": settings.leads = number()
            case "--rounds": settings.rounds = number()
            case "--polls": settings.polls = number()
            case "--mailboxes": settings.mailboxes = number()
            case "--idle-watchers": settings.idleWatchers = number()
            case "--idle-fleet": settings.idleFleet = number()
            case "--only":
                guard let side = arguments.next(), ["floor", "ours", "headers"].contains(side) else {
                    fatalError("--only needs floor, ours or headers")
                }
                settings.only = side
            case "--quick":
                settings.messages = 2_000
                settings.rounds = 1
                settings.mailboxes = 20
            default: fatalError("unknown option \(argument) (options: --messages N --leads N --rounds N --polls N --mailboxes K --quick --only floor|ours|headers --idle-watchers N --idle-fleet N)")
            }
        }
        settings.leads = max(1, min(settings.leads, (settings.messages + 9) / 10))
        return settings
    }

    /// Messages that come from a lead (numbers 0, 10, 20, …).
    var leadMessages: Int { (messages + 9) / 10 }
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// `1,234,567`
func grouped(_ value: Int) -> String {
    let digits = String(value)
    var out = ""
    for (index, character) in digits.reversed().enumerated() {
        if index > 0, index % 3 == 0 { out.append(",") }
        out.append(character)
    }
    return String(out.reversed())
}

struct BenchmarkFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
