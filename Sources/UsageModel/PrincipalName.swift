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
/// when it is a role without a session; otherwise it is a person's.
public enum PrincipalName {
    public static func isPersonal(_ principal: String) -> Bool {
        let parts = principal.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 2 else { return false }
        let type = parts[0]
        let name: Substring
        switch type {
        case "user", "federated-user": name = parts[parts.count - 1]
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
