/// The journal's MESSAGE_ID of each kind of entry fanfilter writes: fixed
/// 128-bit ids, explained in systemd/fanfilter.catalog (`journalctl -x`).
public enum MessageID: String, Sendable, CaseIterable {
    case accessDenied = "5ff9ce5337e04d65a849e0eb560f125b"
    case accessAllowedLogged = "124fd286e5bf4ae5a7662cc213fead8a"
    case wouldDeny = "c85a1025bac04eebb9fefabac2607b25"
    case replyTimedOut = "4b0eda723644470990fe12d9794baea6"
    case overload = "683db364adb347c98bdeb8bacf9b588e"
    case pathUnknown = "8d1f0c2a5b7e4c39a6e2f4d1c0b9a873"
    case policyLoaded = "67268b710b7c45519f8135cc78faa67a"
    case policyRejected = "e60d32656c83427d95073a620f41dc6b"
    case agentStarted = "045bfa20381d4fedb8cac144b1705902"
    case agentStopping = "493983e6329146be90fdd36cbb8a2d62"
    case clientConnected = "d995e257d87f4dc3bce7ffa6b96cb67a"
    case clientDisconnected = "86e6b9550436420daa76f2115b39fe65"
    case entriesSuppressed = "b666b1d82e534380a5ce2e64f99dcb07"
    case entriesDropped = "3f130631260f420f90ea1ae5736a2764"
}
