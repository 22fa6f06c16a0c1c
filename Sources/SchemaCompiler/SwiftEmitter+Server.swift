extension SwiftEmitter {
    /// Per service: one handler protocol per area, the defaults of rpcs not yet served, the method
    /// table built from one handler per area, a `Handler` serving every area, and an
    /// always-unimplemented handler.
    func serverSource() -> String {
        var w = CodeWriter()
        w.line(String(header.dropLast()))
        w.line("// Package \(file.package): server side. The client part declares the messages.")
        w.line()
        var imports = ["MailSyncRPC"]
        if let clientModule { imports.append(clientModule) }
        for module in imports.sorted() { w.line("import \(module)") }
        for service in file.services {
            emitAreaProtocols(service, into: &w)
            emitNotYetServed(service, into: &w)
            emitMethodTable(service, into: &w)
            emitWholeHandler(service, into: &w)
        }
        return w.text
    }

    /// The rpcs of `area`, in schema order.
    static func rpcs(of area: AreaDecl, in service: ServiceDecl) -> [RPCDecl] {
        service.rpcs.filter { $0.area == area.name }
    }

    private func emitAreaProtocols(_ service: ServiceDecl, into w: inout CodeWriter) {
        w.line()
        w.block("extension \(service.name) {") { w in
            for (i, area) in service.areas.enumerated() {
                if i > 0 { w.line() }
                w.doc(area.doc)
                if !area.doc.isEmpty { w.line("///") }
                w.line("/// Implements the \(area.name) area of the \(service.name) service: pass one to")
                w.line("/// `\(service.name).serverMethods(…)`. Roles are checked before a method runs; a method throws")
                w.line("/// `RPCError` to choose the status its caller sees.")
                w.block("public protocol \(Checker.handlerProtocol(area: area.name)): Sendable {") { w in
                    for (j, rpc) in Self.rpcs(of: area, in: service).enumerated() {
                        if j > 0 { w.line() }
                        w.doc(rpc.doc)
                        if !rpc.doc.isEmpty { w.line("///") }
                        w.line("/// \(Self.accessNote(rpc))")
                        if rpc.notYetServed {
                            w.line("/// Not served yet: answers `unimplemented` unless the handler implements it.")
                        }
                        w.line(Self.handlerSignature(rpc))
                    }
                }
            }
        }
    }

    /// A protocol extension per area with rpcs marked `not_yet_served`: their default answers
    /// `unimplemented`, so the area's handler compiles without them.
    private func emitNotYetServed(_ service: ServiceDecl, into w: inout CodeWriter) {
        for area in service.areas {
            let waiting = Self.rpcs(of: area, in: service).filter(\.notYetServed)
            guard !waiting.isEmpty else { continue }
            w.line()
            w.block("extension \(service.name).\(Checker.handlerProtocol(area: area.name)) {") { w in
                for (i, rpc) in waiting.enumerated() {
                    if i > 0 { w.line() }
                    w.line("/// Not served yet (`not_yet_served` in the schema): answers `unimplemented`.")
                    w.block("public " + Self.handlerSignature(rpc) + " {") { w in
                        w.line("throw RPCError(.unimplemented, \"\(service.name)/\(rpc.name) is not served yet\")")
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
