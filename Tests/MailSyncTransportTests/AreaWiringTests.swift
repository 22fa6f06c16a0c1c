import MailSyncRPC
import MailSyncTransport
import Testing
import TestSupport

/// The test schema's `Echo` service is split into two areas (`Calls`, `Identity`) and has one rpc
/// marked `not_yet_served` (`Shout`): the generated wiring, run for real.
@Suite("Area wiring")
struct AreaWiringTests {
    @Test("an rpc marked not_yet_served answers unimplemented through the generated default")
    func notYetServed() async throws {
        let server = try await TestServer.start()
        let (client, transport) = server.client()
        var request = EchoRequest()
        request.text = "hello"
        await #expect {
            _ = try await client.shout(request)
        } throws: { error in
            let error = error as? RPCError
            return error?.code == .unimplemented && error?.message == "Echo/Shout is not served yet"
        }
        // The other methods of the same area are served by the handler.
        #expect(try await client.echo(request).text == "hello")
        transport.close()
        await server.stop()
    }

    @Test("the table built from one handler per area has every method once, in schema order")
    func table() {
        let service = TestEchoService()
        let table = Echo.serverMethods(calls: service, identity: service)
        #expect(table.map(\.descriptor) == Echo.methods)
        #expect(service.serverMethods.map(\.descriptor) == Echo.methods)
    }
}
