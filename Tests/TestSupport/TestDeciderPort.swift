import FilterPort
import PortServer

/// A port of wire messages for a socket server under test, attached to it as
/// the agent attaches its own: the server's deciders are its clients, and
/// each message goes to one that serves its access and rule.
public func attachTestPort(to server: PortServer, backlogCapacity: Int) -> FilterPort<WireMessage, ClientReply> {
    let services = server.services
    let port = FilterPort<WireMessage, ClientReply>(name: "test", maxConnections: server.maxDeciders,
                                                    backlogCapacity: backlogCapacity, serves: { services.serves($0, $1) })
    server.attach(DeciderPort(port, lane: 0))
    return port
}
