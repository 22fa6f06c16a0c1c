// mailsync-gen: compiles .msrpc schemas into Swift client and server code.
//
//   mailsync-gen <schema dir or .msrpc files...> --client-out DIR --server-out DIR
//                [--client-module NAME] [--namespace NAME] [--authorization-doc FILE] [--python-out DIR]
//                [--check]
//
// Exit status: 0 on success; 1 on schema errors (all printed to stderr) or, with --check, when a
// generated file differs from a fresh run; 2 on bad usage.
import Foundation
import SchemaCompiler

let usage = """
    usage: mailsync-gen <schema dir or .msrpc files...> --client-out DIR --server-out DIR [--client-module NAME]
                        [--namespace NAME] [--authorization-doc FILE] [--python-out DIR] [--check]

      --client-out DIR      where <name>.generated.swift (messages, enums, client stubs) goes
      --server-out DIR      where <name>+Server.generated.swift (handler protocols) goes
      --client-module NAME  import NAME in the server part (when the client part is another module)
      --namespace NAME      declare messages and enums inside NAME (e.g. the service, MailSync), and
                            write <name>+ShortNames.generated.swift with their short names to the
                            server output for the server's code
      --authorization-doc FILE
                            write a Markdown table of who may call each rpc (docs/authorization.md)
      --python-out DIR      where <name>_generated.py (the Python client's messages, enums, clients) goes
      --check               write nothing; exit 1 listing every file that differs from a fresh run

    """

func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(status)
}

var inputs: [String] = []
var clientOut: String?
var serverOut: String?
var clientModule: String?
var namespace: String?
var authorizationDoc: String?
var pythonOut: String?
var check = false
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    func value() -> String {
        guard let value = arguments.popFirst(), !value.hasPrefix("--") else {
            fail("mailsync-gen: \(argument) needs a value\n\n" + usage, status: 2)
        }
        return value
    }
    switch argument {
    case "--client-out": clientOut = value()
    case "--server-out": serverOut = value()
    case "--client-module": clientModule = value()
    case "--namespace": namespace = value()
    case "--authorization-doc": authorizationDoc = value()
    case "--python-out": pythonOut = value()
    case "--check": check = true
    case "-h", "--help":
        print(usage, terminator: "")
        exit(0)
    default:
        if argument.hasPrefix("-") { fail("mailsync-gen: unknown option \(argument)\n\n" + usage, status: 2) }
        inputs.append(argument)
    }
}
guard !inputs.isEmpty, let clientOut, let serverOut else {
    fail("mailsync-gen: give at least one schema and both --client-out and --server-out\n\n" + usage, status: 2)
}

let job = GenerationJob(
    inputs: inputs, clientOutput: clientOut, serverOutput: serverOut, clientModule: clientModule,
    namespace: namespace, authorizationDoc: authorizationDoc, pythonOutput: pythonOut,
    root: FileManager.default.currentDirectoryPath)
do {
    let files = try job.outputFiles()
    if check {
        let differing = job.differences(from: files)
        guard differing.isEmpty else {
            fail(
                differing.map { "\($0): out of date (differs from a fresh run, is missing, or is no longer generated)" }.joined(separator: "\n")
                    + "\nmailsync-gen: generated code is out of date; run 'make generate'", status: 1)
        }
    } else {
        try job.write(files)
    }
} catch let error as SchemaErrors {
    fail(error.description + "\nmailsync-gen: \(error.diagnostics.count) error(s); nothing was written", status: 1)
} catch {
    fail("mailsync-gen: \(error)", status: 1)
}
