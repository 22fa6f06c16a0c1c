import MailSyncRPC
import MailSyncTransport
import Testing
import TestSupport

/// The generated client against a real server over loopback TCP.
@Suite("End to end over TCP")
struct EndToEndTests {
    @Test("unary call round-trips text and bytes")
    func unary() async throws {
        let server = try await TestServer.start()
        let (client, transport) = server.client()
        var request = EchoRequest()
        request.text = "héllo, 世界"
        request.payload = Array(0...255)
        let response = try await client.echo(request)
        #expect(response.text == request.text)
        #expect(response.payload == request.payload)
        transport.close()
        await server.stop()
    }

    @Test("many concurrent calls multiplex on one connection", arguments: [1, 64, 500])
    func concurrentUnary(calls: Int) async throws {
        let server = try await TestServer.start()
        let (client, transport) = server.client()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<calls {
                group.addTask {
                    var request = EchoRequest()
                    request.text = "call \(i)"
                    let response = try await client.echo(request)
                    #expect(response.text == "call \(i)")
                }
            }
            try await group.waitForAll()
        }
        #expect(server.server.connectionCount == 1)
        transport.close()
        await server.stop()
    }

    @Test("messages larger than a frame and than a window arrive whole", arguments: [0, 65_536, 3_000_000])
    func largeMessages(size: Int) async throws {
        let server = try await TestServer.start()
        let (client, transport) = server.client()
        var request = EchoRequest()
        request.payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let response = try await client.echo(request)
        #expect(response.payload == request.payload)
        transport.close()
        await server.stop()
    }

    @Test("compressed requests and responses round-trip")
    func compression() async throws {
        let server = try await TestServer.start { $0.compressionThreshold = 1024 }
        let (client, transport) = server.client()
        var request = EchoRequest()
        request.payload = [UInt8](repeating: 7, count: 500_000)
        let response = try await client.echo(request, options: CallOptions(compressionThreshold: 1024))
        #expect(response.payload == request.payload)
        transport.close()
        await server.stop()
    }

    @Test("server streaming delivers every item in order")
    func serverStreaming() async throws {
        let server = try await TestServer.start()
        let (client, transport) = server.client()
        var request = ExpandRequest()
        request.count = 200
        request.payloadSize = 1000
        var indices: [Int32] = []
        for try await item in try await client.expand(request) {
            indices.append(item.index)
            #expect(item.payload.count == 1000)
        }
        #expect(indices == Array(0..<200))
        transport.close()
        await server.stop()
    }

    @Test("client streaming sums what was sent")
    func clientStreaming() async throws {
        let server = try await TestServer.start()
        let (client, transport) = server.client()
        let summary = try await client.collect { writer in
            for i in 0..<300 {
                var item = CollectItem()
                item.payload = [UInt8](repeating: 1, count: i)
                try await writer.write(item)
            }
        }
        #expect(summary.count == 300)
        #expect(summary.bytes == Int64((0..<300).reduce(0, +)))
        transport.close()
        await server.stop()
    }
}
