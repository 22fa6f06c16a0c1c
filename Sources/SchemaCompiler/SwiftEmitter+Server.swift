extension SwiftEmitter {
    /// Handler protocols, their method tables and an always-unimplemented handler, per service.
    func serverSource() -> String {
        var w = CodeWriter()
        w.line(String(header.dropLast()))
        w.line("// Package \(file.package): server side. The client part declares the messages.")
        w.line()
        var imports = ["MailSyncRPC"]
        if let clientModule { imports.append(clientModule) }
        for module in imports.sorted() { w.line("import \(module)") }
        for service in file.services {
            w.line()
            emitServer(service, into: &w)
        }
        return w.text
    }

    private func emitServer(_ service: ServiceDecl, into w: inout CodeWriter) {
        let name = service.name
        w.block("extension \(name) {") { w in
            w.line("/// Implements the \(name) service. Roles are checked before a method runs; a method")
            w.line("/// throws `RPCError` to choose the status its caller sees.")
            w.block("public protocol Handler: Sendable {") { w in
                for (i, rpc) in service.rpcs.enumerated() {
                    if i > 0 { w.line() }
                    w.doc(rpc.doc)
                    if !rpc.doc.isEmpty { w.line("///") }
                    w.line("/// \(Self.accessNote(rpc))")
                    w.line(Self.handlerSignature(rpc))
                }
            }
        }
        w.line()
        w.block("extension \(name).Handler {") { w in
            w.line("/// The methods to register with a `Router`.")
            w.block("public var serverMethods: [ServerMethod] {") { w in
                w.block("[", closing: "]") { w in
                    for rpc in service.rpcs {
                        let descriptor = "\(name).Method.\(Self.methodName(rpc))"
                        let method = Self.methodName(rpc)
                        switch (rpc.requestStreams, rpc.responseStreams) {
                        case (false, false):
                            w.block(".unary(\(descriptor)) { (request: \(rpc.request), context: ServerContext) -> \(rpc.response) in", closing: "},") { w in
                                w.line("try await self.\(method)(request, context: context)")
                            }
                        case (false, true):
                            w.block(".serverStreaming(\(descriptor)) { (request: \(rpc.request), responses: ResponseWriter<\(rpc.response)>, context: ServerContext) in", closing: "},") { w in
                                w.line("try await self.\(method)(request, responses: responses, context: context)")
                            }
                        case (true, _):
                            w.block(".clientStreaming(\(descriptor)) { (requests: RequestStream<\(rpc.request)>, context: ServerContext) -> \(rpc.response) in", closing: "},") { w in
                                w.line("try await self.\(method)(requests, context: context)")
                            }
                        }
                    }
                }
            }
        }
        w.line()
        w.block("extension \(name) {") { w in
            w.line("/// A handler whose every method fails with `unimplemented`: a starting point, and a stand-in")
            w.line("/// for methods not written yet.")
            w.block("public struct UnimplementedHandler: Handler {") { w in
                w.line("public init() {}")
                for rpc in service.rpcs {
                    w.line()
                    w.block("public " + Self.handlerSignature(rpc) + " {") { w in
                        w.line("throw RPCError(.unimplemented, \"\(name)/\(rpc.name) is not implemented yet\")")
                    }
                }
            }
        }
    }

    static func handlerSignature(_ rpc: RPCDecl) -> String {
        let name = methodName(rpc)
        switch (rpc.requestStreams, rpc.responseStreams) {
        case (false, false):
            return "func \(name)(_ request: \(rpc.request), context: ServerContext) async throws -> \(rpc.response)"
        case (false, true):
            return "func \(name)(_ request: \(rpc.request), responses: ResponseWriter<\(rpc.response)>, context: ServerContext) async throws"
        case (true, _):
            return "func \(name)(_ requests: RequestStream<\(rpc.request)>, context: ServerContext) async throws -> \(rpc.response)"
        }
    }
}
