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
        let common = "timeout: float | None = None, metadata: _MetadataLike = None"
        switch (rpc.requestStreams, rpc.responseStreams) {
        case (false, false):
            w.line("async def \(name)(")
            w.indented { w in
                w.line("self, request: \(rpc.request), *, \(common), trailers: _Metadata | None = None,")
            }
            w.line(") -> \(rpc.response):")
            w.indented { w in
                PythonNaming.docstring(doc, into: &w)
                w.line("return await self.channel.unary(")
                w.indented { w in
                    w.line("\"\(wireName)\", request, \(rpc.response), timeout=timeout, metadata=metadata, trailers=trailers,")
                }
                w.line(")")
            }
        case (false, true):
            w.line("def \(name)(")
            w.indented { w in w.line("self, request: \(rpc.request), *, \(common),") }
            w.line(") -> _ResponseStream[\(rpc.response)]:")
            w.indented { w in
                PythonNaming.docstring(doc + ["", "Read with ``async for``; nothing is sent before the first read."], into: &w)
                w.line("return self.channel.server_streaming(")
                w.indented { w in
                    w.line("\"\(wireName)\", request, \(rpc.response), timeout=timeout, metadata=metadata,")
                }
                w.line(")")
            }
        case (true, _):
            w.line("async def \(name)(")
            w.indented { w in
                w.line("self, requests: _Iterable[\(rpc.request)] | _AsyncIterable[\(rpc.request)], *, \(common),")
                w.line("trailers: _Metadata | None = None,")
            }
            w.line(") -> \(rpc.response):")
            w.indented { w in
                PythonNaming.docstring(doc + ["", "Sends every request of ``requests``, then returns the one response."], into: &w)
                w.line("return await self.channel.client_streaming(")
                w.indented { w in
                    w.line("\"\(wireName)\", requests, \(rpc.response), timeout=timeout, metadata=metadata, trailers=trailers,")
                }
                w.line(")")
            }
        }
    }
}
