extension SwiftEmitter {
    /// The argument label of an area in `serverMethods(…)`: `APIKeys` → `apiKeys`.
    static func areaLabel(_ area: AreaDecl) -> String {
        Naming.escaped(Naming.lowerCamel(fromUpperCamel: area.name))
    }

    /// The parameter's name inside `serverMethods(…)`: the label and `Handler`, which no closure
    /// parameter (`request`, `requests`, `responses`, `context`) can equal.
    static func areaParameter(_ area: AreaDecl) -> String {
        Naming.lowerCamel(fromUpperCamel: area.name) + "Handler"
    }

    /// `<Service>.serverMethods(area: some AreaHandler, …) -> [ServerMethod]`: every rpc, in schema
    /// order, calling the handler of its area. A missing area, a missing method or a method with the
    /// wrong types does not compile.
    func emitMethodTable(_ service: ServiceDecl, into w: inout CodeWriter) {
        let name = service.name
        let areas = Dictionary(service.areas.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        w.line()
        w.block("extension \(name) {") { w in
            w.line("/// The methods to register with a `Router`: every rpc of the service, in schema order, each")
            w.line("/// calling the handler of its area.")
            if service.areas.isEmpty {
                w.line("public static func serverMethods() -> [ServerMethod] { [] }")
                return
            }
            w.line("public static func serverMethods(")
            w.indented { w in
                for (i, area) in service.areas.enumerated() {
                    let comma = i == service.areas.count - 1 ? "" : ","
                    w.line("\(Self.areaLabel(area)) \(Self.areaParameter(area)): some \(Checker.handlerProtocol(area: area.name))\(comma)")
                }
            }
            w.block(") -> [ServerMethod] {") { w in
                w.block("[", closing: "]") { w in
                    for rpc in service.rpcs {
                        guard let area = rpc.area.flatMap({ areas[$0] }) else { continue }
                        let handler = Self.areaParameter(area)
                        let descriptor = "\(name).Method.\(Self.methodName(rpc))"
                        let method = Self.methodName(rpc)
                        switch (rpc.requestStreams, rpc.responseStreams) {
                        case (false, false):
                            w.block(".unary(\(descriptor)) { (request: \(rpc.request), context: ServerContext) -> \(rpc.response) in", closing: "},") { w in
                                w.line("try await \(handler).\(method)(request, context: context)")
                            }
                        case (false, true):
                            w.block(".serverStreaming(\(descriptor)) { (request: \(rpc.request), responses: ResponseWriter<\(rpc.response)>, context: ServerContext) in", closing: "},") { w in
                                w.line("try await \(handler).\(method)(request, responses: responses, context: context)")
                            }
                        case (true, _):
                            w.block(".clientStreaming(\(descriptor)) { (requests: RequestStream<\(rpc.request)>, context: ServerContext) -> \(rpc.response) in", closing: "},") { w in
                                w.line("try await \(handler).\(method)(requests, context: context)")
                            }
                        }
                    }
                }
            }
        }
    }

    /// `<Service>.Handler`, one type serving every area (tests, small services), with its
    /// `serverMethods`; and `UnimplementedHandler`, which answers every rpc `unimplemented`.
    func emitWholeHandler(_ service: ServiceDecl, into w: inout CodeWriter) {
        let name = service.name
        let protocols = service.areas.map { Checker.handlerProtocol(area: $0.name) }
        w.line()
        w.block("extension \(name) {") { w in
            w.line("/// One type serving every area of the service; its `serverMethods` registers it for all.")
            w.line("/// A server with a type per area calls `\(name).serverMethods(…)` instead.")
            w.line("public protocol Handler: \(protocols.isEmpty ? "Sendable" : protocols.joined(separator: ", ")) {}")
        }
        w.line()
        w.block("extension \(name).Handler {") { w in
            w.line("/// The methods to register with a `Router`.")
            w.block("public var serverMethods: [ServerMethod] {") { w in
                let arguments = service.areas.map { "\(Self.areaLabel($0)): self" }
                w.line("\(name).serverMethods(\(arguments.joined(separator: ", ")))")
            }
        }
        w.line()
        w.block("extension \(name) {") { w in
            w.line("/// A handler whose every method fails with `unimplemented`: a starting point, and a stand-in")
            w.line("/// for areas a server does not serve.")
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
}
