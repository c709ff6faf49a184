// fanfilter-policy-bench: nanoseconds per decision of the policy evaluator
// alone (no kernel), for policies of 10, 1,000 and 10,000 rules, through the
// rule index and through a linear scan. Run by `make bench-policy`.
import Dispatch
import Policy

/// A policy of `count` rules in the shapes real policies have: exact paths,
/// directories, globs, subject tests, and a catch-all at the end.
func makePolicy(rules count: Int) -> Policy {
    var text = "%admins=0,1000\n"
    for i in 0..<(count - 1) {
        switch i % 5 {
        case 0: text += "deny perm=open uid!=%admins : path=/srv/data/\(i)/payroll.csv\n"
        case 1: text += "deny_log perm=execute all : dir=/srv/uploads/\(i)/\n"
        case 2: text += "allow perm=any exe=/usr/bin/tool\(i) : dir=/opt/app\(i)/\n"
        case 3: text += "deny perm=open comm=evil\(i % 1000) : path=glob:/home/u\(i)/**/*.key\n"
        default: text += "allow_log perm=open gid=\(i % 50) : path=/etc/conf\(i)\n"
        }
    }
    text += "allow perm=any all : all\n"
    return try! Policy.parse(Array(text.utf8), file: "bench")
}

func request(_ n: Int) -> AccessRequest {
    let paths = ["/srv/data/\(n % 997)/payroll.csv", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/home/u3/a/b/id.key",
                 "/etc/conf\(n % 101)", "/opt/app7/bin/run"]
    return AccessRequest(access: n % 3 == 0 ? .execute : .open,
                         subject: SubjectFacts(pid: 100, uid: UInt32(n % 3 == 0 ? 0 : 1001), gid: UInt32(n % 60),
                                               comm: Array("cat".utf8), exe: Array("/usr/bin/cat".utf8)),
                         path: Array(paths[n % paths.count].utf8))
}

func nanosecondsPerDecision(_ policy: Policy, linear: Bool, iterations: Int) -> Double {
    let requests = (0..<1024).map(request)
    var sink = 0
    let start = DispatchTime.now().uptimeNanoseconds
    for i in 0..<iterations {
        let d = linear ? policy.decideLinearly(requests[i & 1023]) : policy.decide(requests[i & 1023])
        sink &+= d.rule?.number ?? 0
    }
    let elapsed = DispatchTime.now().uptimeNanoseconds - start
    precondition(sink != 42, "keeps the loop")
    return Double(elapsed) / Double(iterations)
}

print("rules     indexed ns/decision   linear ns/decision")
var first: Double?
for count in [10, 1_000, 10_000] {
    let policy = makePolicy(rules: count)
    let iterations = 200_000
    _ = nanosecondsPerDecision(policy, linear: false, iterations: 10_000)
    let indexed = nanosecondsPerDecision(policy, linear: false, iterations: iterations)
    let linear = nanosecondsPerDecision(policy, linear: true, iterations: count >= 10_000 ? 5_000 : 50_000)
    first = first ?? indexed
    let pad = { (s: String, n: Int) in String(repeating: " ", count: max(0, n - s.count)) + s }
    print(pad(String(count), 6) + pad(String(Int(indexed)), 22) + pad(String(Int(linear)), 21))
}

// Loading: parse, compile the index and run the shadow lint, as `check` and a reload do.
print("\nrules     load ms (parse, index, shadow check)")
for count in [10_000, 100_000] {
    var text = "%admins=0,1000\n"
    for i in 0..<count { text += "deny perm=open uid=\(i % 5000) : dir=/srv/d\(i % 100)/ path=/srv/d\(i % 100)/f\(i)\n" }
    let bytes = Array(text.utf8)
    let start = DispatchTime.now().uptimeNanoseconds
    let policy = try! Policy.parse(bytes, file: "bench")
    let ms = (DispatchTime.now().uptimeNanoseconds - start) / 1_000_000
    precondition(policy.rules.count == count)
    print(String(repeating: " ", count: max(0, 6 - String(count).count)) + String(count) + String(repeating: " ", count: 10) + String(ms))
}
