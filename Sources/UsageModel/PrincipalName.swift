/// Whether a principal name (the ARN's resource part: `user/NAME`, `assumed-role/ROLE/SESSION`,
/// `federated-user/NAME`, `role/ROLE`) names a person or a function.
///
/// Two unrelated organisations often give a service the same name (`user/gitlab-runner`,
/// `assumed-role/Admin/backup`, `role/ec2-app-role`): such a name recurs by chance in any large
/// population. A person's user or role-session name (`user/carol.adams`, `…/erin.walker`,
/// `…/grace.green@example.com`) recurs by chance far less often, so the identity graph gives it a
/// lower chance floor (``IdentityGraph/Parameters/personalPrincipalFloor``). The rule is built from
/// common IAM naming conventions: a name is a function's when any of its words is a tool, service,
/// environment or job word, when it is machine-made (instance ids, hex runs, SDK session names), or
/// when it is a role without a session; otherwise it is a person's. `*/NAME` is how chiptrail names a
/// person's key (whatever credentials carried the name: ``CloudTrailNames/personName(_:)``) and is read
/// as `user/NAME`.
public enum PrincipalName {
    public static func isPersonal(_ principal: String) -> Bool {
        var text = principal
        return text.withUTF8 { isPersonal(UnsafeRawBufferPointer($0)) }
    }

    /// The same rule on the name's UTF-8 bytes (the CloudTrail decoder's hot path: no `String` per
    /// record). ASCII names, nearly all IAM names, are judged byte by byte; a name with any other
    /// character goes through the Unicode rule, whose letters and digits are Unicode's.
    public static func isPersonal(_ principal: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        while i < principal.count {
            if principal[i] >= 0x80 { return isPersonalUnicode(String(decoding: principal, as: UTF8.self)) }
            i &+= 1
        }
        guard let name = nameOfPerson(principal) else { return false }
        let local = localPart(name)
        var letters = 0
        var digits = 0
        var hexRun = 0
        var longestHexRun = 0
        // A word's lowercase letters, packed 8 to a word: a function word has at most 16 letters.
        var word = PackedWord()
        for byte in local {
            let lower = byte | 0x20
            if lower >= 0x61 && lower <= 0x7A {
                letters += 1
                word.append(lower)
            } else {
                if byte >= 0x30 && byte <= 0x39 { digits += 1 }
                if word.isFunctionWord { return false }
                word = PackedWord()
            }
            if (byte >= 0x30 && byte <= 0x39) || (lower >= 0x61 && lower <= 0x66) {
                hexRun += 1
                longestHexRun = max(longestHexRun, hexRun)
            } else {
                hexRun = 0
            }
        }
        if word.isFunctionWord { return false }
        if letters < 4 || digits >= 4 || longestHexRun >= 8 { return false }
        if local.count >= 2 && local[0] == 0x69 && local[1] == 0x2D { return false }  // "i-"
        return true
    }

    /// The part of `user/NAME`, `federated-user/NAME` or `assumed-role/ROLE/SESSION` that can name a
    /// person (the last), or nil for roles without a session, root and service principals.
    private static func nameOfPerson(_ principal: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        var slashes = 0
        var first = -1
        var last = -1
        for (i, byte) in principal.enumerated() where byte == 0x2F {
            slashes += 1
            if first < 0 { first = i }
            last = i
        }
        guard slashes >= 1 else { return nil }
        let type = UnsafeRawBufferPointer(rebasing: principal[0..<first])
        let minimum: Int
        if type.elementsEqual("user".utf8) || type.elementsEqual("federated-user".utf8)
            || type.elementsEqual("*".utf8)
        {
            minimum = 1
        } else if type.elementsEqual("assumed-role".utf8) {
            minimum = 2
        } else {
            return nil
        }
        guard slashes >= minimum else { return nil }
        return UnsafeRawBufferPointer(rebasing: principal[(last + 1)...])
    }

    /// An e-mail address's local part (the first run of characters that are not `@`), else the name.
    private static func localPart(_ name: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var start = 0
        while start < name.count && name[start] == 0x40 { start += 1 }
        var end = start
        while end < name.count && name[end] != 0x40 { end += 1 }
        return end > start ? UnsafeRawBufferPointer(rebasing: name[start..<end]) : name
    }

    /// Up to 16 lowercase ASCII letters in two integers; longer words are no function word.
    private struct PackedWord: Hashable {
        var low: UInt64 = 0
        var high: UInt64 = 0
        var count = 0

        @inline(__always)
        mutating func append(_ letter: UInt8) {
            if count < 8 {
                low |= UInt64(letter) << (8 * UInt64(count))
            } else if count < 16 {
                high |= UInt64(letter) << (8 * UInt64(count - 8))
            }
            count += 1
        }

        var isFunctionWord: Bool {
            count > 0 && count <= 16 && PrincipalName.packedFunctionWords.contains(self)
        }
    }

    private static let packedFunctionWords: Set<PackedWord> = Set(
        functionWords.compactMap { w in
            guard w.utf8.count <= 16 else { return nil }
            var word = PackedWord()
            for byte in w.utf8 { word.append(byte) }
            return word
        })

    /// The rule over Unicode characters, for names that are not ASCII.
    static func isPersonalUnicode(_ principal: String) -> Bool {
        let parts = principal.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 2 else { return false }
        let type = parts[0]
        let name: Substring
        switch type {
        case "user", "federated-user", "*": name = parts[parts.count - 1]
        case "assumed-role":
            guard parts.count >= 3 else { return false }
            name = parts[parts.count - 1]
        default: return false  // role/…, root, service principals
        }
        // An e-mail address: its local part decides.
        let local = name.split(separator: "@", maxSplits: 1).first ?? name
        var letters = 0
        var word = ""
        var words: [String] = []
        var hexRun = 0
        var longestHexRun = 0
        var digits = 0
        func endWord() {
            if !word.isEmpty { words.append(word); word = "" }
        }
        for scalar in local.unicodeScalars {
            let c = Character(scalar)
            if c.isLetter {
                letters += 1
                word.append(Character(c.lowercased()))
            } else if c.isNumber {
                digits += 1
                endWord()
            } else {
                endWord()
            }
            if c.isHexDigit { hexRun += 1; longestHexRun = max(longestHexRun, hexRun) } else { hexRun = 0 }
        }
        endWord()
        if letters < 4 || digits >= 4 || longestHexRun >= 8 { return false }
        if local.hasPrefix("i-") { return false }
        for w in words where functionWords.contains(w) { return false }
        return true
    }

    /// Words of tools, services, environments and jobs that organisations put in service names.
    static let functionWords: Set<String> = [
        "admin", "administrator", "root", "user", "users", "service", "services", "svc", "sa", "system", "sys", "bot",
        "robot", "automation", "auto", "ci", "cd", "cicd", "build", "builder", "deploy", "deployer", "deployment",
        "release",
        "pipeline", "runner", "gitlab", "github", "actions", "gha", "jenkins", "circleci", "travis", "buildkite",
        "bitbucket", "codebuild", "codepipeline", "codedeploy", "terraform", "tf", "pulumi", "cdk", "cloudformation",
        "cfn",
        "ansible", "chef", "puppet", "packer", "vault", "consul", "nomad", "argo", "argocd", "flux", "spinnaker", "k",
        "s",
        "kube", "kubernetes", "eks", "ecs", "ec", "lambda", "fargate", "batch", "emr", "glue", "athena", "redshift",
        "rds",
        "sqs", "sns", "sagemaker", "bedrock", "karpenter", "autoscaler", "autoscaling", "cluster", "node", "nodes",
        "worker", "workers", "job", "jobs", "cron", "scheduler", "airflow", "spark", "databricks", "snowflake", "dbt",
        "etl", "sync", "backup", "backups", "restore", "replication", "monitoring", "monitor", "metrics", "logging",
        "logs", "log", "audit", "auditor", "security", "scanner", "scan", "compliance", "datadog", "newrelic", "splunk",
        "grafana", "prometheus", "elastic", "billing", "finops", "cost", "reader", "readonly", "read", "write",
        "writer",
        "ops", "devops", "sre", "platform", "infra", "infrastructure", "network", "app", "apps", "application", "api",
        "web", "backend", "frontend", "prod", "production", "dev", "development", "staging", "stage", "test", "testing",
        "qa", "sandbox", "demo", "default", "temp", "tmp", "shared", "common", "team", "support", "operator", "agent",
        "integration", "migration", "import", "export", "upload", "download", "data", "ml", "ai", "training",
        "inference",
        "gpu", "notebook", "jupyter", "mlflow", "kubeflow", "ray", "session", "console", "cli", "sdk", "boto",
        "botocore", "aws", "gcp", "azure", "cloud", "vpn", "bastion", "jump", "jumphost", "proxy", "mail", "smtp",
        "noreply", "alerts", "alert", "health", "check", "ssm", "cloudwatch", "events", "role", "instance", "profile",
        "access", "power", "poweruser", "developer", "developers", "engineer", "analyst", "analytics", "org",
        "organization", "account", "master", "management", "breakglass", "emergency", "go", "java", "python", "node",
        "js", "cloudtrail", "config", "guardduty", "inspector", "lacework", "wiz", "orca", "crowdstrike", "sentinel",
    ]
}
