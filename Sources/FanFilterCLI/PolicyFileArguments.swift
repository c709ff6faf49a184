import ArgumentParser

/// The policy a command reads, as `FILE` or `--policy FILE` (not both);
/// without either, the built-in default policy.
struct PolicyFileArguments: ParsableArguments {
    @Argument(help: ArgumentHelp("The policy file (same as --policy).", valueName: "file"))
    var file: String?

    @OptionGroup var source: PolicySource

    func validate() throws {
        if file != nil && source.policy != nil {
            throw ValidationError("give the policy file once: as an argument or with --policy")
        }
    }

    /// The source named either way.
    var resolved: PolicySource {
        var source = self.source
        source.policy = source.policy ?? file
        return source
    }
}
