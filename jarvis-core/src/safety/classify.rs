//! Walks the shell AST and classifies every simple command in it.
//!
//! Each simple command is expanded into [`Arg`]s (quotes removed, braces
//! expanded, expansions marked dynamic), unwrapped through wrappers (`sudo`,
//! `env`, `timeout`, `xargs`, `sh -c`...) and handed to the per-program rules
//! in [`super::commands`]. Redirections, assignments and every substitution are
//! classified too, and the most severe verdict wins.

use std::collections::BTreeSet;

use super::policy::{CompiledHostRules, SafetyPolicy};
use super::rules::{self, normalize_path};
use super::shell::{self, Command, RedirOp, RedirTarget, Redirect, Script, SimpleCommand, Word};
use super::{Decision, SafetyClass, Verdict};

/// How deep `sh -c`, `ssh host cmd`, `su -c`... may nest.
const MAX_NESTING: usize = 8;
/// Upper bound on the words one brace expansion may produce.
const MAX_BRACE_WORDS: usize = 256;

/// Classifies a whole command line.
pub(super) fn classify(
    policy: &SafetyPolicy,
    host_rules: Option<&CompiledHostRules>,
    command: &str,
) -> Verdict {
    if command.trim().is_empty() {
        return Verdict::refuse(rules::EMPTY_COMMAND, "the command is empty");
    }
    let script = match shell::parse(command) {
        Ok(s) => s,
        Err(e) => {
            return Verdict::refuse(
                rules::UNPARSEABLE,
                format!("the command could not be parsed safely: {e}"),
            );
        }
    };
    if script.items.is_empty() {
        return Verdict::refuse(rules::EMPTY_COMMAND, "the command contains only comments");
    }
    let cx = Cx {
        policy,
        host_rules,
        depth: 0,
    };
    if let Some(v) = cx.host_deny(&script.to_string()) {
        return v;
    }
    cx.script(&script, &mut Env::default(), &Stdin::Inherit)
}

/// One argument of a simple command after expansion.
#[derive(Clone, Debug)]
pub(super) struct Arg {
    /// The value for a static word; for a dynamic one, a pattern with `*` in
    /// place of every expansion (`$HOME/.ssh` → `*/.ssh`).
    pub text: String,
    /// Contains an expansion whose value is only known at run time.
    pub dynamic: bool,
    /// Contains unquoted glob characters (or is dynamic).
    pub glob: bool,
    /// Static words found in the substitutions (or upstream pipeline) that
    /// produce this argument, e.g. `pidof jarvis-server` for `$(pidof jarvis-server)`.
    pub mentions: Vec<String>,
}

impl Arg {
    pub fn lit(&self) -> Option<&str> {
        (!self.dynamic).then_some(self.text.as_str())
    }

    pub fn is(&self, s: &str) -> bool {
        self.lit() == Some(s)
    }

    /// An argument whose value comes from standard input or a substitution.
    pub fn unknown(mentions: Vec<String>) -> Self {
        Arg {
            text: "*".into(),
            dynamic: true,
            glob: true,
            mentions,
        }
    }

    pub fn literal(s: &str) -> Self {
        Arg {
            text: s.into(),
            dynamic: false,
            glob: false,
            mentions: Vec::new(),
        }
    }

    /// Shell-quoted rendering for the normalised command.
    pub fn render(&self) -> String {
        let safe = |c: char| c.is_ascii_alphanumeric() || "_-./:=@%+,^~".contains(c);
        if !self.text.is_empty() && self.text.chars().all(safe) || self.dynamic {
            self.text.clone()
        } else {
            format!("'{}'", self.text.replace('\'', r"'\''"))
        }
    }
}

/// Where a command's standard input comes from.
#[derive(Clone, Debug)]
pub(super) enum Stdin {
    /// Whatever the executor provides (nothing useful).
    Inherit,
    /// The output of earlier commands in a pipeline.
    Pipe { mentions: Vec<String> },
    /// `< file`.
    File(String),
    /// A here-document or here-string; `None` when it contains expansions.
    Text(Option<String>),
}

/// What earlier commands in a list established (best effort).
#[derive(Clone, Debug, Default)]
pub(super) struct Env {
    /// Working directory after a static `cd`.
    pub cwd: Option<String>,
    /// Functions defined so far (their bodies were classified at definition).
    pub functions: BTreeSet<String>,
}

/// Classification context.
#[derive(Clone, Copy)]
pub(super) struct Cx<'a> {
    pub policy: &'a SafetyPolicy,
    host_rules: Option<&'a CompiledHostRules>,
    pub depth: usize,
}

fn combine_or(parts: Vec<Verdict>, default: Verdict) -> Verdict {
    Verdict::combine(parts).unwrap_or(default)
}

fn nothing() -> Verdict {
    Verdict::diagnostic(rules::DIAGNOSTIC, "nothing to run")
}

impl<'a> Cx<'a> {
    pub fn nested(self) -> Self {
        Cx {
            depth: self.depth + 1,
            ..self
        }
    }

    pub fn unclassified(&self, reason: impl Into<String>) -> Verdict {
        Verdict::new(
            self.policy.unclassified,
            SafetyClass::Remediation,
            rules::UNCLASSIFIED,
            reason,
        )
    }

    fn host_deny(&self, normalized: &str) -> Option<Verdict> {
        let rules = self.host_rules?;
        let re = rules.deny.iter().find(|re| re.is_match(normalized))?;
        Some(Verdict::refuse(
            rules::HOST_DENY,
            format!(
                "`{normalized}` matches this host's deny rule `{}`",
                re.as_str()
            ),
        ))
    }

    // -----------------------------------------------------------------------
    // AST walk

    pub fn script(&self, s: &Script, env: &mut Env, stdin: &Stdin) -> Verdict {
        let mut parts = Vec::new();
        for item in &s.items {
            parts.push(self.pipeline(&item.and_or.first, env, stdin));
            for (_, p) in &item.and_or.rest {
                parts.push(self.pipeline(p, env, stdin));
            }
        }
        combine_or(parts, nothing())
    }

    fn pipeline(&self, p: &shell::Pipeline, env: &mut Env, stdin: &Stdin) -> Verdict {
        let mut parts = Vec::new();
        let mut upstream: Vec<String> = Vec::new();
        for (i, c) in p.commands.iter().enumerate() {
            let input = if i == 0 {
                stdin.clone()
            } else {
                Stdin::Pipe {
                    mentions: upstream.clone(),
                }
            };
            parts.push(self.command(c, env, &input));
            upstream.extend(command_words(c));
        }
        combine_or(parts, nothing())
    }

    fn command(&self, c: &Command, env: &mut Env, stdin: &Stdin) -> Verdict {
        match c {
            Command::Simple(sc) => self.simple(sc, env, stdin),
            Command::Subshell { body, redirects } => {
                let mut sub = env.clone();
                self.compound(&[body], redirects, &mut sub, stdin)
            }
            Command::Group { body, redirects } => self.compound(&[body], redirects, env, stdin),
            Command::If {
                branches,
                else_body,
                redirects,
            } => {
                let mut scripts: Vec<&Script> = Vec::new();
                for (c, b) in branches {
                    scripts.push(c);
                    scripts.push(b);
                }
                scripts.extend(else_body);
                self.compound(&scripts, redirects, env, stdin)
            }
            Command::While {
                condition,
                body,
                redirects,
                ..
            } => self.compound(&[condition, body], redirects, env, stdin),
            Command::For {
                words,
                body,
                redirects,
                ..
            } => {
                let mut parts: Vec<Verdict> = words
                    .iter()
                    .flatten()
                    .flat_map(|w| self.substitutions(w, env))
                    .collect();
                parts.push(self.compound(&[body], redirects, env, stdin));
                combine_or(parts, nothing())
            }
            Command::FunctionDef { name, body } => {
                if calls_itself(name, body) {
                    return Verdict::refuse(
                        rules::FORK_BOMB,
                        format!("function `{name}` calls itself: a fork bomb or runaway recursion"),
                    );
                }
                env.functions.insert(name.clone());
                // The body is classified as if it ran: a definition is only
                // ever written to be called.
                let mut sub = env.clone();
                self.command(body, &mut sub, stdin)
            }
        }
    }

    fn compound(
        &self,
        scripts: &[&Script],
        redirects: &[Redirect],
        env: &mut Env,
        stdin: &Stdin,
    ) -> Verdict {
        let mut input = stdin.clone();
        let mut parts = self.redirects(redirects, env, &mut input);
        for s in scripts {
            parts.push(self.script(s, env, &input));
        }
        combine_or(parts, nothing())
    }

    /// Verdicts of every command substitution and process substitution in a word.
    fn substitutions(&self, w: &Word, env: &Env) -> Vec<Verdict> {
        w.substitutions()
            .into_iter()
            .map(|s| self.script(s, &mut env.clone(), &Stdin::Inherit))
            .collect()
    }

    fn redirects(&self, redirects: &[Redirect], env: &Env, stdin: &mut Stdin) -> Vec<Verdict> {
        let mut parts = Vec::new();
        for r in redirects {
            match &r.target {
                RedirTarget::Word(w) => {
                    parts.extend(self.substitutions(w, env));
                    parts.extend(self.redirect(r, w, stdin));
                }
                RedirTarget::HereDoc(h) => {
                    parts.extend(self.substitutions(&h.body, env));
                    if r.fd.unwrap_or(0) == 0 {
                        *stdin = Stdin::Text(h.body.literal());
                    }
                }
            }
        }
        parts
    }

    fn redirect(&self, r: &Redirect, w: &Word, stdin: &mut Stdin) -> Option<Verdict> {
        let is_subst_only = w
            .parts
            .iter()
            .all(|p| matches!(p, shell::WordPart::ProcessSubst { .. }));
        let arg = expand_word(w).into_iter().next()?;
        match r.op {
            RedirOp::HereString => {
                if r.fd.unwrap_or(0) == 0 {
                    *stdin = Stdin::Text(arg.lit().map(|s| format!("{s}\n")));
                }
                None
            }
            RedirOp::DupOut | RedirOp::DupIn
                if arg.lit().is_some_and(|t| {
                    t == "-" || t.trim_end_matches('-').chars().all(|c| c.is_ascii_digit())
                }) =>
            {
                None
            }
            // `< <(curl ...)`: standard input is another command's output.
            RedirOp::Read if is_subst_only => {
                if r.fd.unwrap_or(0) == 0 {
                    *stdin = Stdin::Pipe {
                        mentions: arg.mentions.clone(),
                    };
                }
                None
            }
            _ if is_subst_only => None,
            RedirOp::Read | RedirOp::DupIn => {
                if r.fd.unwrap_or(0) == 0 {
                    *stdin = match arg.lit() {
                        Some(p) => Stdin::File(p.to_string()),
                        None => Stdin::Text(None),
                    };
                }
                self.read_file(&arg)
            }
            RedirOp::ReadWrite => Verdict::combine(
                self.read_file(&arg)
                    .into_iter()
                    .chain([self.write_target(&arg, "redirects output to")]),
            ),
            RedirOp::Write
            | RedirOp::Append
            | RedirOp::DupOut
            | RedirOp::WriteBoth
            | RedirOp::AppendBoth => Some(self.write_target(&arg, "redirects output to")),
            RedirOp::HereDoc => None,
        }
    }

    fn simple(&self, sc: &SimpleCommand, env: &mut Env, stdin: &Stdin) -> Verdict {
        let mut parts = Vec::new();
        for a in &sc.assignments {
            parts.extend(self.substitutions(&a.value, env));
            parts.extend(env_hijack(&a.name));
        }
        for w in &sc.words {
            parts.extend(self.substitutions(w, env));
        }
        let mut input = stdin.clone();
        parts.extend(self.redirects(&sc.redirects, env, &mut input));
        if !sc.words.is_empty() {
            let args: Vec<Arg> = sc.words.iter().flat_map(expand_word).collect();
            parts.push(self.argv(&args, env, &input));
        }
        combine_or(
            parts,
            Verdict::diagnostic(rules::DIAGNOSTIC, "only sets shell variables"),
        )
    }

    /// Parses and classifies a nested shell string (`sh -c`, `ssh host cmd`, `su -c`...).
    pub fn shell_string(&self, code: &Arg, stdin: &Stdin, what: &str) -> Verdict {
        let Some(code) = code.lit() else {
            return Verdict::refuse(
                rules::DYNAMIC_COMMAND,
                format!("{what} runs a command string built at run time"),
            );
        };
        self.shell_text(code, stdin, what)
    }

    pub fn shell_text(&self, code: &str, stdin: &Stdin, what: &str) -> Verdict {
        if self.depth >= MAX_NESTING {
            return Verdict::refuse(
                rules::UNPARSEABLE,
                format!("{what}: commands nested too deeply"),
            );
        }
        match shell::parse(code) {
            Ok(s) => {
                if let Some(v) = self.host_deny(&s.to_string()) {
                    return v;
                }
                self.nested().script(&s, &mut Env::default(), stdin)
            }
            Err(e) => Verdict::refuse(
                rules::UNPARSEABLE,
                format!("{what}: the inner command could not be parsed safely: {e}"),
            ),
        }
    }

    // -----------------------------------------------------------------------
    // Argument vectors

    /// Classifies one command (program and arguments), applying host rules.
    pub fn argv(&self, args: &[Arg], env: &mut Env, stdin: &Stdin) -> Verdict {
        if args.is_empty() {
            return nothing();
        }
        if self.depth >= MAX_NESTING {
            return Verdict::refuse(rules::UNPARSEABLE, "wrappers nested too deeply");
        }
        let normalized = args.iter().map(Arg::render).collect::<Vec<_>>().join(" ");
        if let Some(v) = self.host_deny(&normalized) {
            return v;
        }
        let v = self.nested().program(args, env, stdin);
        if v.decision == Decision::Approve
            && let Some(rules) = self.host_rules
            && let Some(re) = rules.allow.iter().find(|re| re.is_match(&normalized))
        {
            return Verdict::remediation(
                rules::HOST_ALLOW,
                format!(
                    "`{normalized}` matches this host's allow rule `{}` ({})",
                    re.as_str(),
                    v.reason
                ),
            );
        }
        v
    }

    fn program(&self, args: &[Arg], env: &mut Env, stdin: &Stdin) -> Verdict {
        let head = &args[0];
        let rest = &args[1..];
        let Some(word) = head.lit() else {
            return Verdict::refuse(
                rules::DYNAMIC_COMMAND,
                format!("the command name `{}` is only known at run time", head.text),
            );
        };
        if head.glob || word.is_empty() {
            return Verdict::refuse(
                rules::DYNAMIC_COMMAND,
                format!("the command name `{word}` is a pattern, not a command"),
            );
        }
        if let Some(service) = word.strip_prefix("/etc/init.d/") {
            return self.service_script(service, rest);
        }
        let (name, standard) = program_name(word);
        if standard && env.functions.contains(name) {
            return Verdict::diagnostic(
                rules::DIAGNOSTIC,
                format!("calls function `{name}`, classified where it is defined"),
            );
        }
        let v = match self.wrapper(name, rest, env, stdin) {
            Some(v) => v,
            None => {
                let v = self.leaf(name, rest, env, stdin);
                dynamic_guard(name, rest, v)
            }
        };
        if standard || v.decision == Decision::Refuse {
            v
        } else {
            self.unclassified(format!(
                "`{word}` is not in a standard system directory, so it is not treated as `{name}`"
            ))
        }
    }

    // -----------------------------------------------------------------------
    // Path rules with self-protection

    /// Protected names that a path component refers to (`/opt/jarvis/...`, `jarvis.db`).
    pub fn protected_path(&self, path: &str) -> Option<String> {
        let p = &self.policy.protected;
        let names = p
            .containers
            .iter()
            .chain(&p.processes)
            .chain(&p.units)
            .map(|n| n.strip_suffix(".service").unwrap_or(n));
        let comps: Vec<&str> = path.split('/').collect();
        for name in names {
            let hit = comps.iter().any(|c| {
                *c == name
                    || c.strip_prefix(name)
                        .is_some_and(|r| r.starts_with('.') || r.starts_with('_'))
                    || (rules::has_glob(c) && rules::glob_could_match(c, name))
            });
            if hit && !name.is_empty() {
                return Some(name.to_string());
            }
        }
        None
    }

    fn self_protection(&self, name: &str, what: &str) -> Verdict {
        Verdict::refuse(
            rules::SELF_PROTECTION,
            format!(
                "{what} `{name}` would stop, restart or remove Jarvis or its database mid-run; \
                 use the `SelfRestart` action (request_self_restart) instead"
            ),
        )
    }

    /// The verdict for creating or overwriting `arg`.
    pub fn write_target(&self, arg: &Arg, verb: &str) -> Verdict {
        let path = normalize_path(&arg.text);
        if !arg.dynamic && rules::is_null_sink(&path) {
            return Verdict::diagnostic(
                rules::DIAGNOSTIC,
                format!("{verb} {path}, which discards it"),
            );
        }
        if let Some((rule, what)) = rules::protected_write(&path) {
            return Verdict::refuse(rule, format!("{verb} `{path}`: {what}"));
        }
        if let Some(name) = self.protected_path(&path) {
            return self.self_protection(&name, &format!("{verb} `{path}` of"));
        }
        if arg.dynamic {
            return Verdict::approve(
                rules::FILE_WRITE,
                format!("{verb} `{}`, a path only known at run time", arg.text),
            );
        }
        if rules::is_temp_path(&path) {
            return Verdict::remediation(
                rules::FILE_WRITE,
                format!("{verb} `{path}` in a temporary directory"),
            );
        }
        Verdict::approve(rules::FILE_WRITE, format!("{verb} `{path}`"))
    }

    /// The verdict for deleting `arg` (a file, not recursively).
    pub fn remove_target(&self, arg: &Arg, verb: &str) -> Verdict {
        let path = normalize_path(&arg.text);
        if let Some((rule, what)) = rules::protected_write(&path) {
            return Verdict::refuse(rule, format!("{verb} `{path}`: {what}"));
        }
        if let Some(name) = self.protected_path(&path) {
            return self.self_protection(&name, &format!("{verb} `{path}` of"));
        }
        if arg.dynamic {
            return Verdict::approve(
                rules::FILE_DELETE,
                format!("{verb} `{}`, a path only known at run time", arg.text),
            );
        }
        if rules::is_temp_path(&path) {
            return Verdict::remediation(
                rules::FILE_DELETE,
                format!("{verb} `{path}` in a temporary directory"),
            );
        }
        if rules::is_rotated_log(&path) {
            return Verdict::remediation(
                rules::FILE_DELETE,
                format!("{verb} rotated log `{path}`"),
            );
        }
        Verdict::approve(rules::FILE_DELETE, format!("{verb} `{path}`"))
    }

    /// Refusal (or approval) for reading `arg` when it may hold secrets.
    pub fn read_file(&self, arg: &Arg) -> Option<Verdict> {
        let refuse = |why: &str| {
            Verdict::refuse(rules::SECRET_READ, format!("reads `{}`: {why}", arg.text))
                .with_class(SafetyClass::Diagnostic)
        };
        let text = arg.text.strip_prefix("file://").unwrap_or(&arg.text);
        if arg.dynamic {
            if rules::pattern_could_be_secret(text) && text != "*" {
                return Some(refuse("the path may name a secret"));
            }
            return Some(
                Verdict::approve(
                    rules::SECRET_READ,
                    format!(
                        "reads `{}`, a file only known at run time (it may hold secrets)",
                        arg.text
                    ),
                )
                .with_class(SafetyClass::Diagnostic),
            );
        }
        if arg.glob {
            if rules::pattern_could_be_secret(text) {
                return Some(if text.starts_with('/') {
                    refuse("the pattern matches secrets")
                } else {
                    Verdict::approve(
                        rules::SECRET_READ,
                        format!("reads `{text}`, a pattern that may match secrets"),
                    )
                    .with_class(SafetyClass::Diagnostic)
                });
            }
            return None;
        }
        rules::secret_reason(&normalize_path(text)).map(refuse)
    }

    /// Secret checks for every file operand of a content reader.
    pub fn read_files<'b>(&self, files: impl IntoIterator<Item = &'b Arg>) -> Vec<Verdict> {
        files
            .into_iter()
            .filter(|a| !a.is("-"))
            .filter_map(|a| self.read_file(a))
            .collect()
    }
}

/// A verdict allowing a diagnostic command, for the common case.
pub(super) fn diag(name: &str) -> Verdict {
    Verdict::diagnostic(rules::DIAGNOSTIC, format!("`{name}` is read-only"))
}

/// `(basename, from a standard directory)` of a command word.
pub(super) fn program_name(word: &str) -> (&str, bool) {
    if !word.contains('/') {
        return (word, true);
    }
    let normalized = normalize_path(word);
    let dir = normalized.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    let standard = matches!(
        dir,
        "/bin" | "/sbin" | "/usr/bin" | "/usr/sbin" | "/usr/local/bin" | "/usr/local/sbin"
    );
    (rules::basename(word.trim_end_matches('/')), standard)
}

/// Programs that stay safe whatever their (run-time) arguments are.
const DYNAMIC_OK: &[&str] = &[
    "echo", "printf", "test", "[", "[[", "true", "false", ":", "sleep", "ls", "stat", "wc",
    "basename", "dirname", "pidof", "pgrep", "id", "whoami", "groups", "uname", "df", "du", "free",
    "uptime", "ps", "pstree", "readlink", "realpath", "which", "type", "expr", "seq", "cd", "read",
    "exit", "return", "wait", "shift", "local", "unset", "nproc", "getent", "file", "pwd",
];

/// A diagnostic or allowed command whose arguments are only known at run time
/// may turn into something else (`find $X` with `X='/ -delete'`): hold it.
fn dynamic_guard(name: &str, rest: &[Arg], v: Verdict) -> Verdict {
    if v.decision != Decision::Allow
        || DYNAMIC_OK.contains(&name)
        || !rest.iter().any(|a| a.dynamic)
    {
        return v;
    }
    Verdict {
        decision: Decision::Approve,
        reason: format!(
            "{} (but its arguments are only known at run time)",
            v.reason
        ),
        ..v
    }
}

/// Refuses assignments that change what programs load or run.
fn env_hijack(name: &str) -> Option<Verdict> {
    const NAMES: &[&str] = &[
        "PATH",
        "BASH_ENV",
        "ENV",
        "IFS",
        "PS4",
        "SHELLOPTS",
        "BASHOPTS",
        "PROMPT_COMMAND",
        "GCONV_PATH",
        "PYTHONPATH",
        "PYTHONSTARTUP",
        "PYTHONHOME",
        "PERL5OPT",
        "PERL5LIB",
        "PERLLIB",
        "RUBYOPT",
        "RUBYLIB",
        "NODE_OPTIONS",
        "LESSOPEN",
        "LESSCLOSE",
        "PAGER",
        "SYSTEMD_PAGER",
        "EDITOR",
        "VISUAL",
        "GIT_SSH_COMMAND",
        "GIT_EXTERNAL_DIFF",
        "SUDO_ASKPASS",
        "SSH_ASKPASS",
        "HOSTALIASES",
        "DOCKER_HOST",
    ];
    let hijack = NAMES.contains(&name) || name.starts_with("LD_") || name.starts_with("BASH_FUNC_");
    hijack.then(|| {
        Verdict::refuse(
            rules::ENV_HIJACK,
            format!("setting `{name}` changes what programs load or run"),
        )
    })
}

pub(super) fn check_env_assignment(text: &str) -> Option<Verdict> {
    let (name, _) = text.split_once('=')?;
    env_hijack(name.strip_suffix('+').unwrap_or(name))
}

// ---------------------------------------------------------------------------
// Word expansion

/// Expands a word into arguments: quote removal and brace expansion for static
/// words; one dynamic argument (a `*` pattern) for words with expansions.
pub(super) fn expand_word(w: &Word) -> Vec<Arg> {
    match w.quoted_chars() {
        Some(chars) => match brace_expand(&chars) {
            Some(words) => words
                .into_iter()
                .map(|cs| Arg {
                    glob: cs.iter().any(|(c, q)| !q && matches!(c, '*' | '?' | '[')),
                    text: cs.into_iter().map(|(c, _)| c).collect(),
                    dynamic: false,
                    mentions: Vec::new(),
                })
                .collect(),
            None => vec![Arg {
                text: chars.iter().map(|(c, _)| c).collect(),
                dynamic: true,
                glob: true,
                mentions: Vec::new(),
            }],
        },
        None => {
            let mut pattern = String::new();
            let mut mentions = Vec::new();
            pattern_of(&w.parts, &mut pattern, &mut mentions);
            vec![Arg {
                text: pattern,
                dynamic: true,
                glob: true,
                mentions,
            }]
        }
    }
}

fn pattern_of(parts: &[shell::WordPart], out: &mut String, mentions: &mut Vec<String>) {
    use shell::WordPart as P;
    for p in parts {
        match p {
            P::Bare(s) | P::Quoted(s) => out.push_str(s),
            P::DoubleQuoted(inner) => pattern_of(inner, out, mentions),
            P::Param(name) => {
                out.push('*');
                mentions.push(format!("${name}"));
            }
            P::Arith(_) => out.push('*'),
            P::CommandSubst(s) | P::ProcessSubst { body: s, .. } => {
                out.push('*');
                mentions.extend(script_words(s));
            }
        }
    }
}

type QChars = Vec<(char, bool)>;

/// Bash brace expansion over (char, quoted) pairs. `None` when the result
/// would be too large (treated as dynamic).
fn brace_expand(chars: &[(char, bool)]) -> Option<Vec<QChars>> {
    let mut out = Vec::new();
    let mut budget = MAX_BRACE_WORDS;
    brace_expand_into(chars.to_vec(), &mut out, &mut budget)?;
    Some(out)
}

fn brace_expand_into(chars: QChars, out: &mut Vec<QChars>, budget: &mut usize) -> Option<()> {
    let open_close = |c: char, i: usize| chars[i] == (c, false);
    // Find the first `{` with a matching `}` that contains a top-level `,` or `..`.
    for start in 0..chars.len() {
        if !open_close('{', start) {
            continue;
        }
        let mut depth = 0usize;
        let mut commas = Vec::new();
        let mut end = None;
        for i in start + 1..chars.len() {
            if open_close('{', i) {
                depth += 1;
            } else if open_close('}', i) {
                if depth == 0 {
                    end = Some(i);
                    break;
                }
                depth -= 1;
            } else if open_close(',', i) && depth == 0 {
                commas.push(i);
            }
        }
        let Some(end) = end else { continue };
        let prefix = &chars[..start];
        let suffix = &chars[end + 1..];
        let alternatives: Vec<QChars> = if commas.is_empty() {
            let inner: String = chars[start + 1..end].iter().map(|(c, _)| c).collect();
            match sequence(&inner) {
                Some(items) => items
                    .into_iter()
                    .map(|s| s.chars().map(|c| (c, true)).collect())
                    .collect(),
                None => continue,
            }
        } else {
            let mut alts = Vec::new();
            let mut from = start + 1;
            for &c in commas.iter().chain([&end]) {
                alts.push(chars[from..c].to_vec());
                from = c + 1;
            }
            alts
        };
        for alt in alternatives {
            let mut word = prefix.to_vec();
            word.extend(alt);
            word.extend_from_slice(suffix);
            brace_expand_into(word, out, budget)?;
        }
        return Some(());
    }
    *budget = budget.checked_sub(1)?;
    out.push(chars);
    Some(())
}

/// `{1..5}`, `{a..e}`, `{10..1..2}`.
fn sequence(inner: &str) -> Option<Vec<String>> {
    let parts: Vec<&str> = inner.split("..").collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let step: i64 = match parts.get(2) {
        Some(s) => s.parse::<i64>().ok()?.checked_abs()?.max(1),
        None => 1,
    };
    if let (Ok(a), Ok(b)) = (parts[0].parse::<i64>(), parts[1].parse::<i64>()) {
        let count = (a - b).checked_abs()? / step + 1;
        if count > MAX_BRACE_WORDS as i64 {
            return None;
        }
        let dir = if b >= a { step } else { -step };
        return Some((0..count).map(|i| (a + i * dir).to_string()).collect());
    }
    let (mut a, mut b) = (parts[0].chars(), parts[1].chars());
    let (Some(x), None, Some(y), None) = (a.next(), a.next(), b.next(), b.next()) else {
        return None;
    };
    if !x.is_ascii_alphabetic() || !y.is_ascii_alphabetic() {
        return None;
    }
    let (lo, hi) = (x.min(y) as u8, x.max(y) as u8);
    let mut items: Vec<String> = (lo..=hi)
        .step_by(step as usize)
        .map(|c| (c as char).to_string())
        .collect();
    if x > y {
        items.reverse();
    }
    Some(items)
}

// ---------------------------------------------------------------------------
// AST helpers

/// Every static word of every simple command in a script (for `mentions`).
pub(super) fn script_words(s: &Script) -> Vec<String> {
    let mut out = Vec::new();
    for_each_simple_script(s, &mut |sc| {
        out.extend(sc.words.iter().filter_map(Word::literal));
    });
    out
}

fn command_words(c: &Command) -> Vec<String> {
    let mut out = Vec::new();
    for_each_simple(c, &mut |sc| {
        out.extend(sc.words.iter().filter_map(Word::literal))
    });
    out
}

fn for_each_simple_script(s: &Script, f: &mut dyn FnMut(&SimpleCommand)) {
    for item in &s.items {
        for p in std::iter::once(&item.and_or.first).chain(item.and_or.rest.iter().map(|(_, p)| p))
        {
            for c in &p.commands {
                for_each_simple(c, f);
            }
        }
    }
}

fn for_each_simple(c: &Command, f: &mut dyn FnMut(&SimpleCommand)) {
    match c {
        Command::Simple(sc) => {
            f(sc);
            for w in &sc.words {
                for s in w.substitutions() {
                    for_each_simple_script(s, f);
                }
            }
        }
        Command::Subshell { body, .. } | Command::Group { body, .. } => {
            for_each_simple_script(body, f)
        }
        Command::If {
            branches,
            else_body,
            ..
        } => {
            for (c, b) in branches {
                for_each_simple_script(c, f);
                for_each_simple_script(b, f);
            }
            if let Some(e) = else_body {
                for_each_simple_script(e, f);
            }
        }
        Command::While {
            condition, body, ..
        } => {
            for_each_simple_script(condition, f);
            for_each_simple_script(body, f);
        }
        Command::For { body, .. } => for_each_simple_script(body, f),
        Command::FunctionDef { body, .. } => for_each_simple(body, f),
    }
}

/// Words that run the word after them (for fork-bomb detection).
const PASS_THROUGH: &[&str] = &[
    "nohup", "setsid", "exec", "command", "builtin", "sudo", "doas", "env", "nice", "time",
    "timeout", "eval", "xargs", "stdbuf", "ionice",
];

/// True when a function body (transitively) calls the function itself.
fn calls_itself(name: &str, body: &Command) -> bool {
    let mut found = false;
    for_each_simple(body, &mut |sc| {
        for w in &sc.words {
            let Some(t) = w.literal() else { break };
            if t == name {
                found = true;
                break;
            }
            let runs_next = PASS_THROUGH.contains(&t.as_str())
                || t.starts_with('-')
                || t.chars().all(|c| c.is_ascii_digit() || c == '.');
            if !runs_next {
                break;
            }
        }
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        let script = shell::parse(s).unwrap();
        let Command::Simple(sc) = &script.items[0].and_or.first.commands[0] else {
            panic!()
        };
        sc.words
            .iter()
            .flat_map(expand_word)
            .map(|a| a.text)
            .collect()
    }

    #[test]
    fn brace_expansion() {
        assert_eq!(words("rm -{r,f} x"), ["rm", "-r", "-f", "x"]);
        assert_eq!(words("{r,}m"), ["rm", "m"]);
        assert_eq!(words("echo a{1..3}"), ["echo", "a1", "a2", "a3"]);
        assert_eq!(words("echo {c..a}"), ["echo", "c", "b", "a"]);
        assert_eq!(words("echo '{a,b}'"), ["echo", "{a,b}"]);
        assert_eq!(
            words("find . -exec ls {} +"),
            ["find", ".", "-exec", "ls", "{}", "+"]
        );
        assert_eq!(words("echo {a,{b,c}}d"), ["echo", "ad", "bd", "cd"]);
    }

    #[test]
    fn program_names() {
        assert_eq!(program_name("/usr/bin/../bin/rm"), ("rm", true));
        assert_eq!(program_name("/opt/x/rm"), ("rm", false));
        assert_eq!(program_name("rm"), ("rm", true));
    }
}
