extension PythonEmitter {
    /// `MailSync` → `MailSyncClient`.
    static func clientName(_ service: ServiceDecl) -> String {
        service.name + "Client"
    }

    /// One class per service: an async method per rpc over a `mailsync.Channel`.
    func emitClient(_ service: ServiceDecl, into w: inout CodeWriter) {
        let wireName = file.package.isEmpty ? service.name : "\(file.package).\(service.name)"
        w.line("class \(Self.clientName(service)):")
        w.indented { w in
            var doc = service.doc
            if !doc.isEmpty { doc.append("") }
            doc.append("Typed calls to ``\(wireName)`` over a :class:`mailsync.Channel`. Every method takes")
            doc.append("``timeout`` (seconds; default the channel's) and ``metadata`` (sent after the channel's);")
            doc.append("unary and client-streaming ones also ``trailers``, a ``Metadata`` that receives the")
            doc.append("server's trailing metadata. A call that fails raises ``mailsync.RPCError``.")
            PythonNaming.docstring(doc, into: &w)
            w.line()
            w.line("#: The wire name of every method, in schema order.")
            w.line("METHODS = (")
            w.indented { w in
                for rpc in service.rpcs { w.line("\"\(wireName)/\(rpc.name)\",") }
            }
            w.line(")")
            w.line()
            w.line("def __init__(self, channel: _Channel) -> None:")
            w.indented { w in w.line("self.channel = channel") }
            for rpc in service.rpcs {
                w.line()
                emitMethod(rpc, wireName: "\(wireName)/\(rpc.name)", into: &w)
            }
        }
    }

    private func emitMethod(_ rpc: RPCDecl, wireName: String, into w: inout CodeWriter) {
        let name = PythonNaming.escaped(PythonNaming.snake(fromUpperCamel: rpc.name), also: ["channel"])
        var doc = rpc.doc
        if !doc.isEmpty { doc.append("") }
        doc.append(SwiftEmitter.accessNote(rpc))
        let request = rpc.requestStreams
            ? "requests: _Iterable[\(rpc.request)] | _AsyncIterable[\(rpc.request)]"
            : "request: \(rpc.request)"
        // The checker refuses rpcs streaming both ways, so a streamed request means client streaming.
        let (shape, arguments, note): (String, String, String) = switch (rpc.requestStreams, rpc.responseStreams) {
        case (false, false): ("unary", "request", "")
        case (false, true): ("server_streaming", "request", "Read with ``async for``; nothing is sent before the first read.")
        case (true, _): ("client_streaming", "requests", "Sends every request of ``requests``, then returns the one response.")
        }
        let isAsync = shape != "server_streaming"
        let returned = isAsync ? rpc.response : "_ResponseStream[\(rpc.response)]"
        var parameters = ["self", request, "*", "timeout: float | None = None", "metadata: _MetadataLike = None"]
        if isAsync { parameters.append("trailers: _Metadata | None = None") }
        w.line("\(isAsync ? "async def" : "def") \(name)(")
        w.indented { w in
            for parameter in parameters { w.line(parameter + ",") }
        }
        w.line(") -> \(returned):")
        w.indented { w in
            PythonNaming.docstring(note.isEmpty ? doc : doc + ["", note], into: &w)
            w.line("return \(isAsync ? "await " : "")self.channel.\(shape)(")
            w.indented { w in
                w.line("\"\(wireName)\", \(arguments), \(rpc.response),")
                w.line("timeout=timeout, metadata=metadata" + (isAsync ? ", trailers=trailers," : ","))
            }
            w.line(")")
        }
    }
}
