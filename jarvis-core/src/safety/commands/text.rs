//! Tools with their own languages: `awk`, `sed`, `find`, script interpreters.

use super::*;

/// Strips string literals and regex literals from awk code, so the checks
/// below see only the code around them.
pub(super) fn awk_code(program: &str) -> String {
    let mut out = String::new();
    let mut chars = program.chars().peekable();
    let mut prev = '\n';
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                while let Some(d) = chars.next() {
                    if d == '\\' {
                        chars.next();
                    } else if d == '"' {
                        break;
                    }
                }
                out.push_str("\"\"");
                prev = '"';
            }
            '/' if "(,~!{};&|\n=".contains(prev)
                || prev.is_whitespace()
                    && out
                        .trim_end()
                        .chars()
                        .last()
                        .is_none_or(|p| "(,~!{};&|\n=".contains(p)) =>
            {
                while let Some(d) = chars.next() {
                    if d == '\\' {
                        chars.next();
                    } else if d == '/' {
                        break;
                    }
                }
                out.push_str("//");
                prev = '/';
            }
            '#' => {
                for d in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
                out.push('\n');
                prev = '\n';
            }
            c => {
                out.push(c);
                if !c.is_whitespace() || c == '\n' {
                    prev = c;
                }
            }
        }
    }
    out
}

/// Why an awk program is more than a filter.
pub(super) fn awk_danger(program: &str) -> Option<(Decision, &'static str)> {
    let code = awk_code(program);
    let compact: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.contains("system(") {
        return Some((Decision::Refuse, "calls `system()`, running shell commands"));
    }
    let bytes: Vec<char> = code.chars().collect();
    for (i, c) in bytes.iter().enumerate() {
        if *c == '|' && bytes.get(i + 1) != Some(&'|') && (i == 0 || bytes[i - 1] != '|') {
            return Some((Decision::Refuse, "pipes to or from a shell command"));
        }
    }
    if code.contains("ENVIRON") {
        return Some((
            Decision::Approve,
            "reads the environment, which holds credentials",
        ));
    }
    if code.contains("getline") && code.contains('<') {
        return Some((Decision::Approve, "reads other files with `getline`"));
    }
    if code.contains("@load") {
        return Some((Decision::Approve, "loads an extension"));
    }
    for stmt in code.split([';', '{', '}', '\n']) {
        if let Some(pos) = stmt.find("print")
            && stmt[pos..].contains('>')
        {
            return Some((Decision::Approve, "redirects output to a file"));
        }
    }
    None
}

/// Why a sed script is more than a stream edit (`e`, `w`, `r` commands or flags).
pub(super) fn sed_danger(script: &str) -> Option<&'static str> {
    let chars: Vec<char> = script.chars().collect();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < chars.len() && (chars[*i] == ' ' || chars[*i] == '\t') {
            *i += 1;
        }
    };
    let delimited = |i: &mut usize, d: char| -> bool {
        // Skips to just after the next unescaped `d`.
        while *i < chars.len() {
            if chars[*i] == '\\' {
                *i += 2;
                continue;
            }
            if chars[*i] == d {
                *i += 1;
                return true;
            }
            if chars[*i] == '\n' && d != '\n' {
                return false;
            }
            *i += 1;
        }
        false
    };
    while i < chars.len() {
        skip_ws(&mut i);
        if i >= chars.len() {
            break;
        }
        // Address part.
        loop {
            skip_ws(&mut i);
            match chars.get(i) {
                Some(c) if c.is_ascii_digit() || matches!(c, '$' | ',' | '!' | '~' | '+') => i += 1,
                Some('/') => {
                    i += 1;
                    if !delimited(&mut i, '/') {
                        return Some("could not be read safely");
                    }
                    while matches!(chars.get(i), Some('I' | 'M')) {
                        i += 1;
                    }
                }
                Some('\\') => {
                    let Some(&d) = chars.get(i + 1) else {
                        return Some("could not be read safely");
                    };
                    i += 2;
                    if !delimited(&mut i, d) {
                        return Some("could not be read safely");
                    }
                }
                _ => break,
            }
        }
        let Some(&cmd) = chars.get(i) else { break };
        i += 1;
        match cmd {
            ';' | '\n' | '{' | '}' | ' ' => {}
            's' | 'y' => {
                let Some(&d) = chars.get(i) else {
                    return Some("could not be read safely");
                };
                if d == '\n' || d == '\\' {
                    return Some("could not be read safely");
                }
                i += 1;
                if !delimited(&mut i, d) || !delimited(&mut i, d) {
                    return Some("could not be read safely");
                }
                if cmd == 's' {
                    while let Some(&f) = chars.get(i) {
                        match f {
                            'g' | 'p' | 'i' | 'I' | 'm' | 'M' => i += 1,
                            c if c.is_ascii_digit() => i += 1,
                            'e' => {
                                return Some("runs the pattern space as a shell command (`s///e`)");
                            }
                            'w' | 'W' => return Some("writes to a file (`s///w`)"),
                            _ => break,
                        }
                    }
                }
            }
            'p' | 'P' | 'd' | 'D' | 'q' | 'Q' | '=' | 'n' | 'N' | 'g' | 'G' | 'h' | 'H' | 'x'
            | 'l' | 'z' | 'F' => {
                // `q`/`Q`/`l` may take a number.
                while chars.get(i).is_some_and(|c| c.is_ascii_digit()) {
                    i += 1;
                }
            }
            ':' | 'b' | 't' | 'T' | 'a' | 'i' | 'c' => {
                // Label or text up to the end of the line (or `;` for labels/branches).
                let stop_at_semicolon = matches!(cmd, 'b' | 't' | 'T');
                while let Some(&c) = chars.get(i) {
                    if c == '\n' || (stop_at_semicolon && c == ';') {
                        break;
                    }
                    if c == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            'e' => return Some("runs shell commands (`e`)"),
            'w' | 'W' => return Some("writes to a file (`w`)"),
            'r' | 'R' => return Some("reads another file (`r`)"),
            _ => return Some("uses a command the safety rules do not know"),
        }
    }
    None
}

impl<'a> Cx<'a> {
    pub(super) fn awk(&self, name: &str, rest: &[Arg], env: &Env) -> Verdict {
        let o = Opts::parse(
            rest,
            &[
                "-F",
                "-v",
                "-f",
                "--file",
                "-e",
                "--source",
                "-i",
                "--include",
                "-l",
                "--load",
                "-E",
                "--exec",
                "--field-separator",
                "--assign",
            ],
        );
        let mut parts = Vec::new();
        let program_files = o.all_values(&[
            "-f",
            "--file",
            "-E",
            "--exec",
            "-i",
            "--include",
            "-l",
            "--load",
        ]);
        if !program_files.is_empty() {
            parts.push(Verdict::approve(
                rules::INTERPRETER_CODE,
                format!("`{name}` runs a program from a file, which is not known here"),
            ));
        }
        let mut programs: Vec<&Arg> = o.all_values(&["-e", "--source"]);
        let mut files: &[Arg] = &o.operands;
        if programs.is_empty() && program_files.is_empty() {
            match o.operands.first() {
                Some(p) => {
                    programs.push(p);
                    files = &o.operands[1..];
                }
                None => return diag(name),
            }
        }
        for p in programs {
            match p.lit() {
                None => parts.push(Verdict::refuse(
                    rules::INTERPRETER_CODE,
                    format!("`{name}` runs a program built at run time"),
                )),
                Some(code) => match awk_danger(code) {
                    Some((Decision::Refuse, why)) => parts.push(Verdict::refuse(
                        rules::INTERPRETER_CODE,
                        format!("the `{name}` program {why}"),
                    )),
                    Some((_, why)) => parts.push(Verdict::approve(
                        rules::INTERPRETER_CODE,
                        format!("the `{name}` program {why}"),
                    )),
                    None => {}
                },
            }
        }
        let files: Vec<Arg> = files
            .iter()
            .filter(|a| {
                !a.lit()
                    .is_some_and(|t| t.contains('=') && !t.starts_with('/'))
            })
            .map(|a| self.resolve(a, env))
            .collect();
        parts.extend(self.read_files(files.iter()));
        combine(parts, diag(name))
    }

    pub(super) fn sed(&self, name: &str, rest: &[Arg], env: &Env) -> Verdict {
        let o = Opts::parse(
            rest,
            &["-e", "--expression", "-f", "--file", "-l", "--line-length"],
        );
        let in_place = o.has(&["-i", "--in-place"])
            || o.flags.iter().any(|f| f.starts_with("--in-place"))
            || rest.iter().any(|a| {
                a.lit().is_some_and(|t| {
                    t.starts_with("-i")
                        || (t.starts_with('-') && !t.starts_with("--") && t.contains('i'))
                })
            })
            || o.dynamic_flag;
        let mut parts = Vec::new();
        let mut scripts: Vec<&Arg> = o.all_values(&["-e", "--expression"]);
        let script_files = o.all_values(&["-f", "--file"]);
        if !script_files.is_empty() {
            parts.push(Verdict::approve(
                rules::INTERPRETER_CODE,
                format!("`{name} -f` runs a script from a file"),
            ));
        }
        let mut files: &[Arg] = &o.operands;
        if scripts.is_empty() && script_files.is_empty() {
            match o.operands.first() {
                Some(s) => {
                    scripts.push(s);
                    files = &o.operands[1..];
                }
                None => return diag(name),
            }
        }
        for s in scripts {
            match s.lit() {
                None => parts.push(Verdict::approve(
                    rules::INTERPRETER_CODE,
                    format!("the `{name}` script is built at run time"),
                )),
                Some(code) => {
                    if let Some(why) = sed_danger(code) {
                        parts.push(Verdict::approve(
                            rules::INTERPRETER_CODE,
                            format!("the `{name}` script {why}"),
                        ));
                    }
                }
            }
        }
        let files: Vec<Arg> = files.iter().map(|a| self.resolve(a, env)).collect();
        parts.extend(self.read_files(files.iter()));
        if in_place {
            for f in &files {
                parts.push(self.write_target(f, &format!("`{name} -i` edits")));
            }
        }
        combine(parts, diag(name))
    }

    pub(super) fn find(&self, rest: &[Arg], env: &mut Env, stdin: &Stdin) -> Verdict {
        const VALUE: &[&str] = &[
            "-name",
            "-iname",
            "-path",
            "-ipath",
            "-wholename",
            "-iwholename",
            "-regex",
            "-iregex",
            "-type",
            "-xtype",
            "-mtime",
            "-mmin",
            "-atime",
            "-amin",
            "-ctime",
            "-cmin",
            "-size",
            "-user",
            "-group",
            "-uid",
            "-gid",
            "-perm",
            "-maxdepth",
            "-mindepth",
            "-newer",
            "-anewer",
            "-cnewer",
            "-samefile",
            "-inum",
            "-links",
            "-fstype",
            "-printf",
            "-context",
            "-lname",
            "-ilname",
            "-used",
            "-regextype",
            "-D",
            "-files0-from",
        ];
        const FILTERS: &[&str] = &[
            "-name",
            "-iname",
            "-mtime",
            "-mmin",
            "-atime",
            "-amin",
            "-ctime",
            "-cmin",
            "-newer",
            "-anewer",
            "-cnewer",
            "-size",
            "-path",
            "-ipath",
            "-regex",
            "-iregex",
            "-wholename",
        ];
        let mut i = 0;
        // Leading options -H -L -P -O3 -D debug.
        let mut follow = false;
        while let Some(t) = rest.get(i).and_then(Arg::lit) {
            match t {
                "-H" | "-P" => i += 1,
                "-L" => {
                    follow = true;
                    i += 1;
                }
                "-D" => i += 2,
                t if t.starts_with("-O") => i += 1,
                _ => break,
            }
        }
        let mut starts: Vec<Arg> = Vec::new();
        while let Some(a) = rest.get(i) {
            if a.lit()
                .is_some_and(|t| t.starts_with('-') || t == "(" || t == "!" || t == ")")
            {
                break;
            }
            starts.push(self.resolve(a, env));
            i += 1;
        }
        if starts.is_empty() {
            starts.push(self.resolve(&Arg::literal("."), env));
        }
        let mut parts = Vec::new();
        let mut filtered = false;
        let mut has_or = false;
        let mut deletes: Vec<(bool, String)> = Vec::new(); // (filtered before, what)
        while let Some(a) = rest.get(i) {
            i += 1;
            let Some(t) = a.lit() else {
                parts.push(Verdict::approve(
                    rules::UNCLASSIFIED,
                    format!("`find` expression `{}` is only known at run time", a.text),
                ));
                continue;
            };
            match t {
                "-delete" => deletes.push((filtered, "-delete".into())),
                "-o" | "-or" | "," => has_or = true,
                "-follow" => follow = true,
                "-exec" | "-execdir" | "-ok" | "-okdir" => {
                    let mut inner = Vec::new();
                    while let Some(b) = rest.get(i) {
                        i += 1;
                        if b.is(";") || b.is("+") {
                            break;
                        }
                        inner.push(b.clone());
                    }
                    let program = inner
                        .first()
                        .and_then(Arg::lit)
                        .map(|p| program_name(p).0.to_string());
                    if matches!(
                        program.as_deref(),
                        Some("rm" | "unlink" | "shred" | "rmdir")
                    ) {
                        deletes.push((filtered, format!("{t} {}", render(&inner))));
                        continue;
                    }
                    let placeholder = |s: &Arg| Arg {
                        text: format!("{}/*", s.text.trim_end_matches('/')),
                        dynamic: s.dynamic,
                        glob: true,
                        mentions: s.mentions.clone(),
                    };
                    for s in &starts {
                        let args: Vec<Arg> = inner
                            .iter()
                            .map(|b| {
                                if b.is("{}") {
                                    placeholder(s)
                                } else {
                                    b.clone()
                                }
                            })
                            .collect();
                        let v = self.argv(&args, &mut env.clone(), stdin);
                        let metadata_only = matches!(
                            program.as_deref(),
                            Some(
                                "ls" | "stat"
                                    | "file"
                                    | "du"
                                    | "wc"
                                    | "echo"
                                    | "basename"
                                    | "dirname"
                                    | "readlink"
                                    | "realpath"
                                    | "test"
                                    | "["
                                    | "md5sum"
                                    | "sha256sum"
                                    | "sha1sum"
                                    | "printf"
                            )
                        );
                        if v.decision == Decision::Allow
                            && !metadata_only
                            && (s.dynamic || rules::dir_contains_secrets(&s.text))
                        {
                            parts.push(secret_approve(format!(
                                "`find {} -exec {}` runs on every file under a directory that holds secrets",
                                s.text,
                                render(&inner)
                            )));
                        }
                        parts.push(v);
                    }
                }
                "-fprint" | "-fprint0" | "-fls" | "-fprintf" => {
                    if let Some(f) = rest.get(i) {
                        parts.push(
                            self.write_target(
                                &self.resolve(f, env),
                                &format!("`find {t}` writes to"),
                            ),
                        );
                    }
                    i += if t == "-fprintf" { 2 } else { 1 };
                }
                t if VALUE.contains(&t) || t.starts_with("-newer") => {
                    if FILTERS.contains(&t) || t.starts_with("-newer") {
                        let trivial =
                            matches!(t, "-name" | "-iname" | "-path" | "-ipath" | "-wholename")
                                && rest.get(i).is_some_and(|v| {
                                    v.lit().is_none_or(|p| p.chars().all(|c| c == '*'))
                                });
                        if !trivial {
                            filtered = true;
                        }
                    }
                    i += 1;
                }
                _ => {}
            }
        }
        for (filtered_before, what) in deletes {
            for s in &starts {
                parts.push(self.find_delete(s, filtered_before && !has_or && !follow, &what));
            }
        }
        combine(parts, diag("find"))
    }

    /// `find START ... -delete` (or `-exec rm`): a recursive delete under START.
    pub(super) fn find_delete(&self, start: &Arg, filtered: bool, what: &str) -> Verdict {
        let path = normalize_path(&start.text);
        if let Some(name) = self.protected_path(&path) {
            return self.self_protect(&name, &format!("`find {path} {what}` deletes files of"));
        }
        let temp_root = matches!(path.as_str(), "/tmp" | "/var/tmp");
        if !start.dynamic && !start.glob && (rules::is_temp_path(&path) || temp_root) && filtered {
            return Verdict::remediation(
                rules::RECURSIVE_DELETE,
                format!("`find {path} ... {what}` deletes selected files in a temporary directory"),
            );
        }
        if !start.dynamic && !start.glob && rules::is_temp_path(&path) {
            return Verdict::approve(
                rules::RECURSIVE_DELETE,
                format!("`find {path} {what}` deletes everything under a temporary directory"),
            );
        }
        Verdict::refuse(
            rules::RECURSIVE_DELETE,
            format!(
                "`find {} {what}` deletes files recursively outside a temporary directory",
                start.text
            ),
        )
    }

    pub(super) fn interpreter(
        &self,
        name: &str,
        code_flags: &[&str],
        rest: &[Arg],
        stdin: &Stdin,
    ) -> Verdict {
        if rest.len() == 1
            && rest.iter().any(|a| {
                a.is("--version")
                    || a.is("-V")
                    || a.is("--help")
                    || a.is("-h")
                    || (a.is("-v") && name.starts_with("perl"))
            })
        {
            return diag(name);
        }
        let mut i = 0;
        let mut module = false;
        while let Some(a) = rest.get(i) {
            let Some(t) = a.lit() else { break };
            if code_flags.contains(&t) {
                return Verdict::refuse(
                    rules::INTERPRETER_CODE,
                    format!("`{name} {t}` runs inline code"),
                );
            }
            if t.starts_with('-') && !t.starts_with("--") && t.len() > 1 {
                let letters = &t[1..];
                if code_flags
                    .iter()
                    .any(|f| f.len() == 2 && f.starts_with('-') && letters.contains(&f[1..]))
                {
                    return Verdict::refuse(
                        rules::INTERPRETER_CODE,
                        format!("`{name} {t}` runs inline code"),
                    );
                }
                if letters.starts_with('m') && name.starts_with("py") {
                    module = true;
                    break;
                }
                i += if matches!(t, "-W" | "-X" | "-I" | "-r" | "--require" | "-M")
                    && !code_flags.contains(&t)
                {
                    2
                } else {
                    1
                };
                continue;
            }
            if t == "--" || t.starts_with("--") {
                i += 1;
                continue;
            }
            break;
        }
        if module {
            return self.unclassified(format!(
                "`{name} -m` runs a module, which is not known here"
            ));
        }
        match rest.get(i) {
            Some(script) if !script.is("-") => {
                if script.dynamic {
                    if script.mentions.iter().any(|m| !m.starts_with('$')) {
                        Verdict::refuse(
                            rules::PIPE_TO_SHELL,
                            format!(
                                "`{name}` runs a script produced by `{}`",
                                script.mentions.join(" ")
                            ),
                        )
                    } else {
                        Verdict::refuse(
                            rules::DYNAMIC_COMMAND,
                            format!("`{name}` runs a script only known at run time"),
                        )
                    }
                } else {
                    self.unclassified(format!(
                        "`{name}` runs script `{}`, whose contents are not known here",
                        script.text
                    ))
                }
            }
            _ => match stdin {
                Stdin::Pipe { mentions } => Verdict::refuse(
                    rules::PIPE_TO_SHELL,
                    format!(
                        "`{name}` runs code read from a pipe (`{}`)",
                        mentions.join(" ")
                    ),
                ),
                Stdin::Text(_) => Verdict::refuse(
                    rules::INTERPRETER_CODE,
                    format!("`{name}` runs inline code from a here-document"),
                ),
                Stdin::File(p) => self.unclassified(format!(
                    "`{name}` runs script `{p}`, whose contents are not known here"
                )),
                Stdin::Inherit => {
                    self.unclassified(format!("`{name}` starts an interactive interpreter"))
                }
            },
        }
    }
}
