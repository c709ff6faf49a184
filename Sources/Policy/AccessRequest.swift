/// One access to decide: who, what, how.
public struct AccessRequest: Sendable, Equatable {
    public var access: Access
    public var subject: SubjectFacts
    public var object: ObjectFacts

    public init(access: Access, subject: SubjectFacts, object: ObjectFacts) {
        self.access = access
        self.subject = subject
        self.object = object
    }

    public init(access: Access, subject: SubjectFacts, path: [UInt8]?) {
        self.init(access: access, subject: subject, object: ObjectFacts(path: path))
    }
}
