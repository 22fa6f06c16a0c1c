extension SwiftEmitter {
    /// The service's namespace: method descriptors and the client stub.
    func emitClient(_ service: ServiceDecl, into w: inout CodeWriter) {
        w.doc(service.doc)
        w.block("public enum \(service.name) {") { w in
            w.line("/// What the server and clients know about each method: name, shape and allowed roles.")
            w.block("public enum Method {") { w in
                for (i, rpc) in service.rpcs.enumerated() {
                    if i > 0 { w.line() }
                    w.doc(rpc.doc)
                    w.block("public static let \(Self.methodName(rpc)) = MethodDescriptor(", closing: ")") { w in
                        w.line("service: \"\(serviceWireName(service))\", method: \"\(rpc.name)\", kind: .\(Self.kind(rpc)),")
                        let roles = (rpc.roles ?? []).map { "\"\($0.name)\"" }.joined(separator: ", ")
                        let others = (rpc.manageOthers ?? []).map { "\"\($0.name)\"" }.joined(separator: ", ")
                        if others.isEmpty {
                            w.line("allowedRoles: [\(roles)], isIdempotent: \(rpc.idempotent)")
                        } else {
                            w.line("allowedRoles: [\(roles)], isIdempotent: \(rpc.idempotent),")
                            w.line("othersRoles: [\(others)]")
                        }
                    }
                }
            }
            w.line()
            w.line("/// Every method of the service, in schema order.")
            let all = service.rpcs.map { "Method.\(Self.methodName($0))" }
            w.line("public static let methods: [MethodDescriptor] = [\(all.joined(separator: ", "))]")
        }
        w.line()
        w.block("extension \(service.name) {") { w in
            w.line("/// Typed calls to the \(service.name) service over an `RPCClient`.")
            w.block("public struct Client: Sendable {") { w in
                w.line("public let rpc: RPCClient")
                w.line()
                w.line("public init(_ rpc: RPCClient) { self.rpc = rpc }")
                for rpc in service.rpcs {
                    w.line()
                    emitClientMethod(rpc, into: &w)
                }
            }
        }
    }

    private func emitClientMethod(_ rpc: RPCDecl, into w: inout CodeWriter) {
        w.doc(rpc.doc)
        if !rpc.doc.isEmpty { w.line("///") }
        w.line("/// \(Self.accessNote(rpc))")
        let name = Self.methodName(rpc)
        let descriptor = "Method.\(Self.methodName(rpc))"
        switch (rpc.requestStreams, rpc.responseStreams) {
        case (false, false):
            w.block("public func \(name)(_ request: \(rpc.request), options: CallOptions = .defaults) async throws -> \(rpc.response) {") { w in
                w.line("try await rpc.unary(\(descriptor), request, options: options)")
            }
        case (false, true):
            w.block("public func \(name)(_ request: \(rpc.request), options: CallOptions = .defaults) async throws -> ResponseStream<\(rpc.response)> {") { w in
                w.line("try await rpc.serverStreaming(\(descriptor), request, options: options)")
            }
        case (true, _):
            w.block("public func \(name)(options: CallOptions = .defaults, _ body: (RequestWriter<\(rpc.request)>) async throws -> Void) async throws -> \(rpc.response) {") { w in
                w.line("try await rpc.clientStreaming(\(descriptor), options: options, body)")
            }
        }
    }

    func serviceWireName(_ service: ServiceDecl) -> String {
        file.package.isEmpty ? service.name : "\(file.package).\(service.name)"
    }

    /// The Swift name of an rpc's stub and handler method, escaped where needed.
    static func methodName(_ rpc: RPCDecl) -> String {
        Naming.escaped(Naming.lowerCamel(fromUpperCamel: rpc.name))
    }

    static func kind(_ rpc: RPCDecl) -> String {
        switch (rpc.requestStreams, rpc.responseStreams) {
        case (false, false): "unary"
        case (false, true): "serverStreaming"
        case (true, false): "clientStreaming"
        case (true, true): "bidirectionalStreaming"
        }
    }

    /// "Roles: `admin`, `member`. Idempotent: safe to retry." — appended to stub and handler docs,
    /// with the own-versus-others rule between the two when the rpc has `manage_others`.
    static func accessNote(_ rpc: RPCDecl) -> String {
        let roles = (rpc.roles ?? []).map(\.name)
        let who = roles == [Checker.anyoneRole]
            ? "Roles: anyone (no credentials needed)."
            : "Roles: " + roles.map { "`\($0)`" }.joined(separator: ", ") + "."
        var others = ""
        if let manageOthers = rpc.manageOthers, !manageOthers.isEmpty {
            let names = manageOthers.map { Naming.pluralPhrase(role: $0.name) }
            others = " \(Naming.sentenceList(names).capitalizedFirst) may act on other users' mailboxes and their data; others only on their own."
        }
        return who + others + (rpc.idempotent ? " Idempotent: safe to retry." : " Not idempotent.")
    }
}
