import Foundation
import MailSyncClient
@testable import MailSyncService
import MailSyncStorage
@testable import MailSyncTenantData
import Testing

/// Every RPC of the schema, as every role, with extreme values for every field (from
/// `ExtremeRequests`: at and past each declared bound, type extremes, empty values, duplicates,
/// unknown enum values, malformed encodings), over TCP against a real server. A new RPC or field is
/// covered without a new test.
///
/// Asserts: every answer is a status (never a dropped connection, `unavailable`, `internal`, or a
/// unary call running into its deadline); a request past a declared bound gets `invalid argument`
/// naming the field, before any handler runs; the server still answers afterwards; and the
/// process's resident memory grows by less than `rssGrowthBound`.
@Suite("Extreme values, from the schema", .timeLimit(.minutes(5)))
struct ExtremeValuesTests {
    /// Generous: the requests sent total far more than this, and one of them at most 3 MiB, so
    /// growth past it means requests are kept or amplified. Other suites running in the same
    /// process at the same time count too.
    static let rssGrowthBound = 384 << 20
    /// Calls in flight at once.
    static let concurrency = 6

    struct Call: Sendable {
        let method: MethodDescriptor
        let role: String
        let label: String
        let bytes: [UInt8]
        let expected: ExtremeRequests.Refusal
    }

    struct Outcome: Sendable {
        let code: StatusCode
        let message: String
    }

    @Test("every RPC × every role × extreme values: a status every time, bounds enforced, the server up, memory bounded")
    func everyRPCEveryRoleEveryField() async throws {
        let started = ContinuousClock.now
        let harness = try await ServiceHarness.start()
        let probe = try SchemaProbe()
        let extremes = ExtremeRequests(probe: probe)
        let keys = try await Self.keysForEveryRole(harness, probe: probe)

        var calls: [Call] = []
        for method in MailSync.methods {
            let type = probe.requestType(of: method)
            let baseline = probe.request(for: method, ids: ["*": "x"])
            let variants = extremes.variants(of: type, baseline: baseline)
            for role in probe.roles {
                let allowed = method.allowedRoles.contains(role) || method.allowedRoles == ["anyone"]
                for overflowing in [false, true] {
                    calls.append(Call(
                        method: method, role: role, label: overflowing ? "every field past its bound" : "every field at its bound",
                        bytes: extremes.composite(of: type, baseline: baseline, overflowing: overflowing), expected: .none))
                }
                guard allowed else { continue }
                for variant in variants {
                    calls.append(Call(method: method, role: role, label: variant.label, bytes: variant.bytes, expected: variant.expected))
                }
            }
        }
        #expect(Set(calls.map(\.method.method)) == Set(MailSync.methods.map(\.method)))

        let transport = TCPClientTransport(host: "127.0.0.1", port: harness.port)
        // Warm up (connections, caches, first-use allocations) before the baseline is taken.
        _ = await Self.run(Array(calls.prefix(200)), transport: transport, keys: keys)
        let rssBefore = try Self.residentBytes()
        let outcomes = await Self.run(calls, transport: transport, keys: keys)
        let rssAfter = try Self.residentBytes()

        var failures: [String] = []
        for (call, outcome) in zip(calls, outcomes) {
            let allowed = call.method.allowedRoles.contains(call.role) || call.method.allowedRoles == ["anyone"]
            let what = "\(call.method.method) as \(call.role), \(call.label): \(outcome.code) \(outcome.message.prefix(160))"
            if [.unavailable, .unknown, .internal].contains(outcome.code) {
                failures.append("not a proper status: " + what)
            } else if call.method.kind == .unary && outcome.code == .deadlineExceeded {
                failures.append("ran into its deadline: " + what)
            } else if allowed {
                switch call.expected {
                case .none: break
                case .decoding:
                    if outcome.code != .invalidArgument { failures.append("undecodable, not refused: " + what) }
                case .bound(let field):
                    if outcome.code != .invalidArgument || !outcome.message.contains(field) {
                        failures.append("past a bound, not refused naming \(field): " + what)
                    }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) of \(calls.count) calls:\n\(failures.prefix(40).joined(separator: "\n"))")

        // Still up: a later call through the generated client answers.
        let info = try await harness.operatorClient.getServerInfo(GetServerInfoRequest())
        #expect(!info.version.isEmpty)
        let growth = rssAfter - rssBefore
        #expect(growth < Self.rssGrowthBound, "RSS grew by \(growth >> 20) MiB over \(calls.count) calls (bound \(Self.rssGrowthBound >> 20) MiB)")
        print("ExtremeValuesTests: \(calls.count) calls, RSS \(rssBefore >> 20) → \(rssAfter >> 20) MiB, \(ContinuousClock.now - started)")
        transport.close()
        await harness.stop()
    }

    @Test("ListSyncEvents and WatchSyncEvents with a million kinds are refused at once, naming kinds and the bound")
    func millionKinds() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        var list = ListSyncEventsRequest()
        list.kinds = Array(repeating: .connected, count: 1_000_000)
        let start = ContinuousClock.now
        await #expect { _ = try await company.admin.listSyncEvents(list) } throws: { error in
            (error as? RPCError)?.code == .invalidArgument && (error as? RPCError)?.message == "kinds has 1000000 elements; at most 64"
        }
        var watch = WatchSyncEventsRequest()
        watch.kinds = list.kinds
        await #expect {
            for try await _ in try await company.admin.watchSyncEvents(watch) {}
        } throws: { error in
            (error as? RPCError)?.code == .invalidArgument && (error as? RPCError)?.message == "kinds has 1000000 elements; at most 64"
        }
        #expect(ContinuousClock.now - start < .seconds(10))
        // 64 duplicates are within the bound, and answered like one kind.
        list.kinds = Array(repeating: .connected, count: 64)
        _ = try await company.admin.listSyncEvents(list)
        await harness.stop()
    }

    @Test("repeated kinds reach SQL once each")
    func kindsDeduplicated() {
        let kinds: [SyncEventRecord.Kind] = [.error, .connected, .error, .connected, .disabled]
        #expect(SyncEventRecords.distinctKinds(kinds) == [.connected, .error, .disabled])
    }

    // MARK: Helpers

    /// A key per schema role: the operator's, and one per user role in a fresh company.
    static func keysForEveryRole(_ harness: ServiceHarness, probe: SchemaProbe) async throws -> [String: String] {
        let company = try await harness.makeCompany(name: "Extremes Inc")
        var keys: [String: String] = ["operator": harness.operatorKey]
        let tenant = TenantID(validating: company.id)!
        for (name, role) in AuthorizationTests.userRoles {
            let userID = "user-\(name)"
            let now = harness.clock.now().microsecondsSinceEpoch
            try await harness.server.environment!.tenants.withTenant(tenant) { lease in
                try await lease.write { db in
                    _ = try db.run("INSERT INTO users VALUES (?, ?, ?, ?, 1, ?)",
                                   [.text(userID), .text(name), .text("\(name)@extremes.example"), .text(UserRecord.Role(role)!.stored), .integer(now)])
                }
            }
            keys[name] = try await harness.key(company: company.id, user: userID)
        }
        #expect(Set(keys.keys) == Set(probe.roles), "the test must cover every role the schema declares")
        return keys
    }

    /// Runs the calls `concurrency` at a time; outcomes in the calls' order.
    static func run(_ calls: [Call], transport: TCPClientTransport, keys: [String: String]) async -> [Outcome] {
        var outcomes = [Outcome?](repeating: nil, count: calls.count)
        await withTaskGroup(of: (Int, Outcome).self) { group in
            var next = 0
            func launch() {
                guard next < calls.count else { return }
                let (index, call) = (next, calls[next])
                next += 1
                group.addTask { (index, await Self.call(call, transport: transport, key: keys[call.role])) }
            }
            for _ in 0..<concurrency { launch() }
            while let (index, outcome) = await group.next() {
                outcomes[index] = outcome
                launch()
            }
        }
        return outcomes.map { $0! }
    }

    /// One call with raw request bytes; a server stream is read for 200 ms at most.
    static func call(_ call: Call, transport: TCPClientTransport, key: String?) async -> Outcome {
        var options = CallOptions(timeout: .seconds(10))
        if let key { options.metadata.add(Metadata.authorizationKey, key) }
        do {
            switch call.method.kind {
            case .unary:
                _ = try await transport.unary(call.method, request: call.bytes, options: options)
            default:
                if call.method.kind == .serverStreaming { options.timeout = .milliseconds(200) }
                let stream = try await transport.openCall(call.method, options: options)
                try await stream.send(call.bytes)
                try await stream.finishSending()
                while try await stream.receive() != nil {}
            }
            return Outcome(code: .ok, message: "")
        } catch let error as RPCError {
            return Outcome(code: error.code, message: error.message)
        } catch {
            return Outcome(code: .unknown, message: "not a status: \(error)")
        }
    }

    /// This process's resident set (VmRSS), in bytes.
    static func residentBytes() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { throw CocoaError(.fileReadCorruptFile) }
        return kib * 1024
    }
}
