import DequeModule
import Dispatch
import Synchronization

/// The connect callback's answer.
public enum ConnectDecision: Sendable, Equatable {
    case accept
    case reject(reason: String)
}
