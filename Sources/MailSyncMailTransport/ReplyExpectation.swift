import MailSyncIMAP

/// Which untagged responses a batch of commands asked for, by command name.
///
/// `SELECT`/`EXAMINE`: FLAGS, EXISTS, RECENT and `* OK [code]`; `FETCH`: FETCH (with the
/// budget's UIDs only, when it names them); `SEARCH`: SEARCH and ESEARCH; `LIST`/`LSUB`: LIST;
/// `STATUS`: STATUS; `CAPABILITY`: CAPABILITY; `ENABLE`: ENABLED; `ID`: ID; `NAMESPACE`:
/// NAMESPACE. Anything else (`* OK` without a code, `* NO`, EXPUNGE, EXISTS outside a select,
/// unknown responses) was asked for by nobody. A response asked for by any command of the batch
/// counts as asked for: servers may answer pipelined commands concurrently.
struct ReplyExpectation: Sendable {
    private struct Asks: OptionSet, Sendable {
        let rawValue: Int
        static let select = Asks(rawValue: 1 << 0)
        static let fetch = Asks(rawValue: 1 << 1)
        static let search = Asks(rawValue: 1 << 2)
        static let list = Asks(rawValue: 1 << 3)
        static let status = Asks(rawValue: 1 << 4)
        static let capability = Asks(rawValue: 1 << 5)
        static let enable = Asks(rawValue: 1 << 6)
        static let id = Asks(rawValue: 1 << 7)
        static let namespace = Asks(rawValue: 1 << 8)
    }

    private var asks: Asks = []
    private let fetchUIDs: Set<UInt32>?

    init(commands: [String], fetchUIDs: Set<UInt32>?) {
        self.fetchUIDs = fetchUIDs
        for command in commands {
            switch Self.name(of: command) {
            case "SELECT", "EXAMINE": asks.insert(.select)
            case "FETCH": asks.insert(.fetch)
            case "SEARCH": asks.insert(.search)
            case "LIST", "LSUB": asks.insert(.list)
            case "STATUS": asks.insert(.status)
            case "CAPABILITY": asks.insert(.capability)
            case "ENABLE": asks.insert(.enable)
            case "ID": asks.insert(.id)
            case "NAMESPACE": asks.insert(.namespace)
            default: break
            }
        }
    }

    /// The command's name, upper-cased, without a leading `UID`: `UID FETCH 1:5 …` → `FETCH`.
    static func name(of command: String) -> String {
        var words = command.split(separator: " ", maxSplits: 2).map { $0.uppercased() }
        if words.first == "UID" { words.removeFirst() }
        return words.first ?? ""
    }

    func asked(_ response: UntaggedResponse) -> Bool {
        switch response {
        case .capability: return asks.contains(.capability)
        case .flags, .recent: return asks.contains(.select)
        case .exists: return asks.contains(.select)
        case .status(let status): return asks.contains(.select) && status.condition == .ok && status.code != nil
        case .list: return asks.contains(.list)
        case .search, .esearch: return asks.contains(.search)
        case .fetch(_, let attributes):
            guard asks.contains(.fetch) else { return false }
            guard let fetchUIDs else { return true }
            return attributes.contains { attribute in
                if case .uid(let uid) = attribute { return fetchUIDs.contains(uid) }
                return false
            }
        case .expunge: return false
        case .other(let keyword, _):
            switch keyword {
            case "STATUS": return asks.contains(.status)
            case "ENABLED": return asks.contains(.enable)
            case "ID": return asks.contains(.id)
            case "NAMESPACE": return asks.contains(.namespace)
            default: return false
            }
        }
    }
}
