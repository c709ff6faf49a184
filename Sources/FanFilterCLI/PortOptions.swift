import AgentService
import ArgumentParser
import FilterPortClient
import PortProtocol

/// What every command that talks to a running agent takes: where its socket is.
struct PortOptions: ParsableArguments {
    @Option(name: .customLong("socket"), help: ArgumentHelp(
        "The running agent's socket (its policy's port_socket).", valueName: "path"))
    var socket = PortLimits.defaultSocketPath

    /// Connects with `role`, or prints why not and exits 1.
    func connect(as role: Role, name: String, deniedOnly: Bool = false) throws -> FilterPortClient {
        do {
            return try FilterPortClient(path: socket, hello: Hello(role: role, deniedOnly: deniedOnly, name: name))
        } catch {
            printError("fanfilter: cannot reach the agent at \(socket): \(error)")
            throw ExitCode.failure
        }
    }

    /// Sends one control request; prints the answer (errors to stderr) and exits 1 when it failed.
    func request(_ command: ControlCommand, argument: String = "") throws {
        let client = try connect(as: .control, name: "fanfilter-cli")
        defer { client.disconnect() }
        let result: ControlResult
        do { result = try client.sendToFilter(command, argument: Array(argument.utf8)) } catch {
            printError("fanfilter: \(error)")
            throw ExitCode.failure
        }
        if result.succeeded { print(result.body) } else {
            printError(result.body)
            throw ExitCode.failure
        }
    }
}
