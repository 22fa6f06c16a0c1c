import ArgumentParser
import Foundation
import MailSyncClient
import MailSyncRPC

/// An admin subcommand: one RPC through the generated client, printed as a table or JSON.
///
/// Exit codes say what failed: 0 done; 64 bad usage (argument-parser's own); 3 the server refused
/// the request as invalid or out of range; 4 not found; 5 not allowed (no key, bad key, role);
/// 6 already exists or a precondition failed (the state must change first); 7 the server is
/// unreachable, overloaded or timed out; 1 anything else.
protocol AdminCommand: AsyncParsableCommand {
    var options: ClientOptions { get }
    /// Calls the server and prints the result.
    func call(_ client: MailSync.Client) async throws
}

extension AdminCommand {
    func run() async throws {
        let client = try options.client()
        do {
            try await call(client)
        } catch let error as RPCError {
            FileHandle.standardError.write(Data("mailsync: \(error.code): \(error.message)\n".utf8))
            throw ExitCode(Self.exitCode(error.code))
        }
    }

    static func exitCode(_ code: StatusCode) -> Int32 {
        switch code {
        case .invalidArgument, .outOfRange: 3
        case .notFound: 4
        case .unauthenticated, .permissionDenied: 5
        case .alreadyExists, .failedPrecondition, .aborted: 6
        case .unavailable, .deadlineExceeded, .resourceExhausted: 7
        default: 1
        }
    }

    /// Prints `value` as JSON (with `--json`) or as `table`.
    func output(_ value: Any, table: @autoclosure () -> Table) {
        if options.json {
            print(JSONOutput.render(value))
        } else {
            print(table().render(), terminator: "")
        }
    }
}
