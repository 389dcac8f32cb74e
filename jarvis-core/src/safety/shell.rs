//! A parser for the subset of POSIX sh / bash that remediation commands use.
//!
//! The safety classifier never matches raw command text: it walks this AST, so
//! quoting (`r''m`, `"r"m`, `\rm`, `$'\x72m'`), wrappers and composition cannot
//! hide a command. The parser is deliberately strict: anything it does not
//! understand (`case`, `select`, `(( ))`, `coproc`, substitutions inside
//! `${...}` or `$((...))`, unterminated quotes or here-documents) is a
//! [`ParseError`], which the classifier turns into a refusal.
//!
//! Supported: lists (`;` `&` newline), `&&`/`||`, pipelines (`|`, `|&`, `!`),
//! subshells `( )`, groups `{ ;}`, `if`/`while`/`until`/`for`, function
//! definitions (`f() { }` and `function f { }`), `[[ ]]`, assignments,
//! redirections (`<` `>` `>>` `>|` `<>` `>&` `<&` `&>` `&>>` here-documents
//! `<<`/`<<-` and here-strings `<<<`), words made of bare text, single quotes,
//! double quotes, ANSI-C quotes `$'..'`, parameters `$x`/`${..}`, command
//! substitution `$(..)` and backticks, arithmetic `$((..))` and process
//! substitution `<(..)`/`>(..)`, comments and line continuations.

use std::collections::HashMap;
use std::fmt;

/// Maximum nesting of subshells, groups and substitutions.
const MAX_DEPTH: usize = 64;
/// Inputs longer than this are refused outright (no legitimate step is this long).
pub const MAX_INPUT_LEN: usize = 64 * 1024;

/// A parsed command line: a list of and-or lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Script {
    pub items: Vec<ListItem>,
}

/// One element of a list, with its terminator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListItem {
    pub and_or: AndOr,
    /// Terminated by `&`: runs in the background.
    pub background: bool,
}

/// `a && b || c`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AndOr {
    pub first: Pipeline,
    pub rest: Vec<(AndOrOp, Pipeline)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AndOrOp {
    And,
    Or,
}

/// `[!] a | b |& c`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pipeline {
    pub negated: bool,
    pub commands: Vec<Command>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Simple(SimpleCommand),
    /// `( body )`.
    Subshell {
        body: Script,
        redirects: Vec<Redirect>,
    },
    /// `{ body; }`.
    Group {
        body: Script,
        redirects: Vec<Redirect>,
    },
    /// `if c; then a; elif d; then b; else e; fi`.
    If {
        branches: Vec<(Script, Script)>,
        else_body: Option<Script>,
        redirects: Vec<Redirect>,
    },
    /// `while c; do b; done` (`until` when `until` is true).
    While {
        until: bool,
        condition: Script,
        body: Script,
        redirects: Vec<Redirect>,
    },
    /// `for name [in words]; do body; done`.
    For {
        var: String,
        words: Option<Vec<Word>>,
        body: Script,
        redirects: Vec<Redirect>,
    },
    /// `name() body` or `function name body`.
    FunctionDef {
        name: String,
        body: Box<Command>,
    },
}

/// A command with its assignments, words and redirections.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimpleCommand {
    pub assignments: Vec<Assignment>,
    pub words: Vec<Word>,
    pub redirects: Vec<Redirect>,
}

/// `NAME=value` (or `NAME+=value`) before the command word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub name: String,
    pub value: Word,
}

/// A word: a concatenation of parts, e.g. `"$HOME"/x'y'`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Word {
    pub parts: Vec<WordPart>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WordPart {
    /// Unquoted text: globs, tilde and brace expansion still apply.
    Bare(String),
    /// Text taken literally: single quotes, a backslash escape, or decoded `$'..'`.
    Quoted(String),
    /// `"..."` with its inner parts (never `Bare`: globs do not apply inside).
    DoubleQuoted(Vec<WordPart>),
    /// `$name`, `$1`, `$@`, `${...}` (raw text inside the braces).
    Param(String),
    /// `$(...)` or `` `...` ``.
    CommandSubst(Script),
    /// `$((...))` (raw expression).
    Arith(String),
    /// `<(...)` (`output: false`) or `>(...)` (`output: true`).
    ProcessSubst { output: bool, body: Script },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirect {
    /// Explicit file descriptor (`2>`), if any.
    pub fd: Option<u32>,
    pub op: RedirOp,
    pub target: RedirTarget,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedirOp {
    /// `<`
    Read,
    /// `>` and `>|`
    Write,
    /// `>>`
    Append,
    /// `<>`
    ReadWrite,
    /// `>&` (fd duplication, or a file for `>& file`)
    DupOut,
    /// `<&`
    DupIn,
    /// `&>`
    WriteBoth,
    /// `&>>`
    AppendBoth,
    /// `<<` / `<<-`
    HereDoc,
    /// `<<<`
    HereString,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RedirTarget {
    Word(Word),
    HereDoc(HereDoc),
}

/// A here-document. With a quoted delimiter the body is literal; otherwise it
/// undergoes parameter expansion and command substitution (captured in `body`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HereDoc {
    pub delimiter: String,
    pub quoted: bool,
    pub strip_tabs: bool,
    pub body: Word,
    /// Parser bookkeeping: which body belongs here.
    id: usize,
}

/// Why the input could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} at offset {offset}")]
pub struct ParseError {
    pub message: String,
    /// Character offset where the problem was noticed.
    pub offset: usize,
}

/// Parses a command line.
pub fn parse(input: &str) -> Result<Script, ParseError> {
    if input.len() > MAX_INPUT_LEN {
        return Err(ParseError {
            message: format!("command longer than {MAX_INPUT_LEN} bytes"),
            offset: 0,
        });
    }
    if input.contains('\0') {
        return Err(ParseError {
            message: "NUL byte in command".into(),
            offset: input.find('\0').unwrap_or(0),
        });
    }
    let mut p = Parser {
        chars: input.chars().collect(),
        pos: 0,
        depth: 0,
        pending: Vec::new(),
        bodies: HashMap::new(),
        next_heredoc: 0,
    };
    let mut script = p.script(&Stop::Eof)?;
    p.skip_blank();
    if !p.eof() {
        return Err(p.err(format!("unexpected `{}`", p.peek_char_str())));
    }
    if !p.pending.is_empty() {
        return Err(p.err("unterminated here-document"));
    }
    fill_heredocs_script(&mut script, &mut p.bodies);
    Ok(script)
}

impl Word {
    /// The word's value when it contains no expansion at all; quotes removed.
    /// Glob characters and braces are returned as written.
    pub fn literal(&self) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            literal_into(part, &mut out)?;
        }
        Some(out)
    }

    /// True when the word is written entirely without quotes or expansions.
    pub fn is_bare(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, WordPart::Bare(_)))
    }

    /// The characters of a static word, each with whether it was quoted.
    pub fn quoted_chars(&self) -> Option<Vec<(char, bool)>> {
        let mut out = Vec::new();
        for part in &self.parts {
            match part {
                WordPart::Bare(s) => out.extend(s.chars().map(|c| (c, false))),
                WordPart::Quoted(s) => out.extend(s.chars().map(|c| (c, true))),
                WordPart::DoubleQuoted(inner) => {
                    for p in inner {
                        match p {
                            WordPart::Quoted(s) | WordPart::Bare(s) => {
                                out.extend(s.chars().map(|c| (c, true)))
                            }
                            _ => return None,
                        }
                    }
                }
                _ => return None,
            }
        }
        Some(out)
    }

    /// Every command substitution and process substitution body in the word.
    pub fn substitutions(&self) -> Vec<&Script> {
        let mut out = Vec::new();
        collect_substs(&self.parts, &mut out);
        out
    }
}

fn literal_into(part: &WordPart, out: &mut String) -> Option<()> {
    match part {
        WordPart::Bare(s) | WordPart::Quoted(s) => out.push_str(s),
        WordPart::DoubleQuoted(inner) => {
            for p in inner {
                literal_into(p, out)?;
            }
        }
        _ => return None,
    }
    Some(())
}

fn collect_substs<'a>(parts: &'a [WordPart], out: &mut Vec<&'a Script>) {
    for part in parts {
        match part {
            WordPart::CommandSubst(s) | WordPart::ProcessSubst { body: s, .. } => out.push(s),
            WordPart::DoubleQuoted(inner) => collect_substs(inner, out),
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------
// Rendering: a canonical, whitespace-normalised form used for host allow/deny
// regexes and for messages.

impl fmt::Display for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{}", item.and_or)?;
            if item.background {
                f.write_str(" &")?;
            } else if i + 1 < self.items.len() {
                f.write_str(";")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for AndOr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.first)?;
        for (op, p) in &self.rest {
            let op = match op {
                AndOrOp::And => "&&",
                AndOrOp::Or => "||",
            };
            write!(f, " {op} {p}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negated {
            f.write_str("! ")?;
        }
        for (i, c) in self.commands.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

fn write_redirects(f: &mut fmt::Formatter<'_>, redirects: &[Redirect]) -> fmt::Result {
    for r in redirects {
        write!(f, " {r}")?;
    }
    Ok(())
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Simple(s) => write!(f, "{s}"),
            Command::Subshell { body, redirects } => {
                write!(f, "( {body} )")?;
                write_redirects(f, redirects)
            }
            Command::Group { body, redirects } => {
                write!(f, "{{ {body}; }}")?;
                write_redirects(f, redirects)
            }
            Command::If {
                branches,
                else_body,
                redirects,
            } => {
                for (i, (c, b)) in branches.iter().enumerate() {
                    let kw = if i == 0 { "if" } else { "elif" };
                    write!(f, "{kw} {c}; then {b}; ")?;
                }
                if let Some(e) = else_body {
                    write!(f, "else {e}; ")?;
                }
                f.write_str("fi")?;
                write_redirects(f, redirects)
            }
            Command::While {
                until,
                condition,
                body,
                redirects,
            } => {
                let kw = if *until { "until" } else { "while" };
                write!(f, "{kw} {condition}; do {body}; done")?;
                write_redirects(f, redirects)
            }
            Command::For {
                var,
                words,
                body,
                redirects,
            } => {
                write!(f, "for {var}")?;
                if let Some(words) = words {
                    f.write_str(" in")?;
                    for w in words {
                        write!(f, " {w}")?;
                    }
                }
                write!(f, "; do {body}; done")?;
                write_redirects(f, redirects)
            }
            Command::FunctionDef { name, body } => write!(f, "{name}() {body}"),
        }
    }
}

impl fmt::Display for SimpleCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut sep = |f: &mut fmt::Formatter<'_>| {
            if !std::mem::take(&mut first) {
                f.write_str(" ")
            } else {
                Ok(())
            }
        };
        for a in &self.assignments {
            sep(f)?;
            write!(f, "{}={}", a.name, a.value)?;
        }
        for w in &self.words {
            sep(f)?;
            write!(f, "{w}")?;
        }
        for r in &self.redirects {
            sep(f)?;
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Word {
    /// Static words render as their value; expansions render in shell syntax.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.parts {
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl fmt::Display for WordPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WordPart::Bare(s) | WordPart::Quoted(s) => f.write_str(s),
            WordPart::DoubleQuoted(inner) => {
                for p in inner {
                    write!(f, "{p}")?;
                }
                Ok(())
            }
            WordPart::Param(p) => write!(f, "${{{p}}}"),
            WordPart::CommandSubst(s) => write!(f, "$({s})"),
            WordPart::Arith(a) => write!(f, "$(({a}))"),
            WordPart::ProcessSubst { output, body } => {
                write!(f, "{}({body})", if *output { '>' } else { '<' })
            }
        }
    }
}

impl fmt::Display for Redirect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(fd) = self.fd {
            write!(f, "{fd}")?;
        }
        let op = match self.op {
            RedirOp::Read => "<",
            RedirOp::Write => ">",
            RedirOp::Append => ">>",
            RedirOp::ReadWrite => "<>",
            RedirOp::DupOut => ">&",
            RedirOp::DupIn => "<&",
            RedirOp::WriteBoth => "&>",
            RedirOp::AppendBoth => "&>>",
            RedirOp::HereDoc => "<<",
            RedirOp::HereString => "<<<",
        };
        match &self.target {
            RedirTarget::Word(w) => write!(f, "{op}{w}"),
            RedirTarget::HereDoc(h) => write!(f, "{op}{}", h.delimiter),
        }
    }
}

// ---------------------------------------------------------------------------
// The parser: recursive descent directly over characters, because shell
// tokenisation depends on context (reserved words, here-documents, `[[`).

/// What ends the list being parsed.
enum Stop {
    Eof,
    /// `)` of a subshell or `$(`.
    Paren,
    /// One of these reserved words (`}`, `then`, `fi`, `do`, `done`, ...).
    Words(&'static [&'static str]),
}

struct PendingHeredoc {
    id: usize,
    delimiter: String,
    quoted: bool,
    strip_tabs: bool,
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
    /// Here-documents whose bodies start after the next newline.
    pending: Vec<PendingHeredoc>,
    /// Bodies read so far, by here-document id; filled into the AST at the end.
    bodies: HashMap<usize, Word>,
    next_heredoc: usize,
}

fn is_meta(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\n' | '|' | '&' | ';' | '<' | '>' | '(' | ')'
    )
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

impl Parser {
    fn eof(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }

    fn peek_char_str(&self) -> String {
        self.peek()
            .map(String::from)
            .unwrap_or_else(|| "end of input".into())
    }

    fn starts_with(&self, s: &str) -> bool {
        s.chars()
            .enumerate()
            .all(|(i, c)| self.peek_at(i) == Some(c))
    }

    fn err(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            message: message.into(),
            offset: self.pos,
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        Ok(())
    }

    /// Skips spaces, tabs, line continuations and comments (not newlines).
    fn skip_blank(&mut self) {
        loop {
            match self.peek() {
                Some(' ' | '\t' | '\r') => self.pos += 1,
                Some('\\') if self.peek_at(1) == Some('\n') => self.pos += 2,
                Some('#') => {
                    while !matches!(self.peek(), None | Some('\n')) {
                        self.pos += 1;
                    }
                }
                _ => return,
            }
        }
    }

    /// Consumes one newline, then any here-document bodies it releases.
    fn newline(&mut self) -> Result<(), ParseError> {
        debug_assert_eq!(self.peek(), Some('\n'));
        self.pos += 1;
        for doc in std::mem::take(&mut self.pending) {
            let body = self.heredoc_body(&doc)?;
            self.bodies.insert(doc.id, body);
        }
        Ok(())
    }

    /// Skips blanks and newlines (where the grammar allows a line break).
    fn linebreak(&mut self) -> Result<(), ParseError> {
        loop {
            self.skip_blank();
            if self.peek() == Some('\n') {
                self.newline()?;
            } else {
                return Ok(());
            }
        }
    }

    /// The next token if it is a plain word, without consuming it.
    fn peek_bare_word(&self) -> Option<String> {
        let mut i = self.pos;
        let mut s = String::new();
        while let Some(&c) = self.chars.get(i) {
            if is_meta(c) {
                break;
            }
            if matches!(c, '\'' | '"' | '\\' | '$' | '`') {
                return None;
            }
            s.push(c);
            i += 1;
        }
        (!s.is_empty()).then_some(s)
    }

    fn at_reserved(&self, words: &[&str]) -> bool {
        self.peek_bare_word()
            .is_some_and(|w| words.contains(&w.as_str()))
    }

    fn expect_reserved(&mut self, word: &str) -> Result<(), ParseError> {
        self.linebreak()?;
        if self.peek_bare_word().as_deref() == Some(word) {
            self.pos += word.chars().count();
            Ok(())
        } else {
            Err(self.err(format!("expected `{word}`")))
        }
    }

    fn at_stop(&self, stop: &Stop) -> bool {
        match stop {
            Stop::Eof => false,
            Stop::Paren => self.peek() == Some(')'),
            Stop::Words(words) => self.at_reserved(words),
        }
    }

    /// list: and_or { (`;` | `&` | newline) and_or } up to `stop`.
    fn script(&mut self, stop: &Stop) -> Result<Script, ParseError> {
        self.enter()?;
        let mut items = Vec::new();
        loop {
            self.linebreak()?;
            if self.eof() || self.at_stop(stop) {
                break;
            }
            if self.peek() == Some(')') {
                // A `)` with nothing open, or `case` pattern syntax.
                return Err(self.err("unexpected `)`"));
            }
            let and_or = self.and_or()?;
            self.skip_blank();
            let background = match self.peek() {
                Some('&') if self.peek_at(1) != Some('&') => {
                    self.pos += 1;
                    true
                }
                Some(';') if self.peek_at(1) != Some(';') => {
                    self.pos += 1;
                    false
                }
                Some('\n') => {
                    self.newline()?;
                    false
                }
                None => false,
                Some(')') if matches!(stop, Stop::Paren) => false,
                _ if self.at_stop(stop) => false,
                Some(c) => return Err(self.err(format!("unexpected `{c}`"))),
            };
            items.push(ListItem { and_or, background });
        }
        self.depth -= 1;
        Ok(Script { items })
    }

    fn and_or(&mut self) -> Result<AndOr, ParseError> {
        let first = self.pipeline()?;
        let mut rest = Vec::new();
        loop {
            self.skip_blank();
            let op = if self.starts_with("&&") {
                AndOrOp::And
            } else if self.starts_with("||") {
                AndOrOp::Or
            } else {
                break;
            };
            self.pos += 2;
            self.linebreak()?;
            rest.push((op, self.pipeline()?));
        }
        Ok(AndOr { first, rest })
    }

    fn pipeline(&mut self) -> Result<Pipeline, ParseError> {
        self.skip_blank();
        let mut negated = false;
        // `time` as a pipeline prefix is a reserved word; treat it as a wrapper
        // word of the first command instead (the classifier unwraps it).
        while self.at_reserved(&["!"]) {
            self.pos += 1;
            negated = !negated;
            self.skip_blank();
        }
        let mut commands = vec![self.command()?];
        loop {
            self.skip_blank();
            if self.peek() == Some('|') && self.peek_at(1) != Some('|') {
                self.pos += 1;
                if self.peek() == Some('&') {
                    self.pos += 1; // `|&` also pipes stderr
                }
                self.linebreak()?;
                commands.push(self.command()?);
            } else {
                break;
            }
        }
        Ok(Pipeline { negated, commands })
    }

    fn command(&mut self) -> Result<Command, ParseError> {
        self.skip_blank();
        match self.peek() {
            None => return Err(self.err("expected a command")),
            Some('(') => {
                if self.peek_at(1) == Some('(') {
                    return Err(self.err("arithmetic commands `(( ))` are not supported"));
                }
                self.pos += 1;
                let body = self.script(&Stop::Paren)?;
                if self.peek() != Some(')') {
                    return Err(self.err("expected `)`"));
                }
                self.pos += 1;
                let redirects = self.trailing_redirects()?;
                return Ok(Command::Subshell { body, redirects });
            }
            Some(c @ (')' | '|' | '&' | ';')) => {
                return Err(self.err(format!("unexpected `{c}`")));
            }
            _ => {}
        }
        if let Some(word) = self.peek_bare_word() {
            match word.as_str() {
                "{" => {
                    self.pos += 1;
                    let body = self.script(&Stop::Words(&["}"]))?;
                    self.expect_reserved("}")?;
                    let redirects = self.trailing_redirects()?;
                    return Ok(Command::Group { body, redirects });
                }
                "if" => return self.if_command(),
                "while" | "until" => return self.while_command(word == "until"),
                "for" => return self.for_command(),
                "function" => return self.function_keyword(),
                "case" | "select" | "coproc" => {
                    return Err(self.err(format!("`{word}` is not supported")));
                }
                "then" | "elif" | "else" | "fi" | "do" | "done" | "esac" | "}" | "in" => {
                    return Err(self.err(format!("unexpected `{word}`")));
                }
                _ => {}
            }
        }
        self.simple_command()
    }

    fn trailing_redirects(&mut self) -> Result<Vec<Redirect>, ParseError> {
        let mut redirects = Vec::new();
        loop {
            self.skip_blank();
            if let Some(r) = self.try_redirect()? {
                redirects.push(r);
            } else {
                return Ok(redirects);
            }
        }
    }

    fn if_command(&mut self) -> Result<Command, ParseError> {
        self.pos += 2;
        let mut branches = Vec::new();
        let mut else_body = None;
        loop {
            let cond = self.script(&Stop::Words(&["then"]))?;
            self.expect_reserved("then")?;
            let body = self.script(&Stop::Words(&["elif", "else", "fi"]))?;
            branches.push((cond, body));
            self.linebreak()?;
            match self.peek_bare_word().as_deref() {
                Some("elif") => self.pos += 4,
                Some("else") => {
                    self.pos += 4;
                    else_body = Some(self.script(&Stop::Words(&["fi"]))?);
                    self.expect_reserved("fi")?;
                    break;
                }
                Some("fi") => {
                    self.pos += 2;
                    break;
                }
                _ => return Err(self.err("expected `fi`")),
            }
        }
        let redirects = self.trailing_redirects()?;
        Ok(Command::If {
            branches,
            else_body,
            redirects,
        })
    }

    fn while_command(&mut self, until: bool) -> Result<Command, ParseError> {
        self.pos += 5; // `while` and `until` are both five letters
        let condition = self.script(&Stop::Words(&["do"]))?;
        self.expect_reserved("do")?;
        let body = self.script(&Stop::Words(&["done"]))?;
        self.expect_reserved("done")?;
        let redirects = self.trailing_redirects()?;
        Ok(Command::While {
            until,
            condition,
            body,
            redirects,
        })
    }

    fn for_command(&mut self) -> Result<Command, ParseError> {
        self.pos += 3;
        self.skip_blank();
        let var = self
            .peek_bare_word()
            .filter(|w| is_name(w))
            .ok_or_else(|| self.err("expected a variable name after `for`"))?;
        self.pos += var.chars().count();
        self.skip_blank();
        let mut words = None;
        if self.at_reserved(&["in"]) {
            self.pos += 2;
            let mut list = Vec::new();
            loop {
                self.skip_blank();
                match self.peek() {
                    Some(';') => {
                        self.pos += 1;
                        break;
                    }
                    Some('\n') => {
                        self.newline()?;
                        break;
                    }
                    None => return Err(self.err("expected `do`")),
                    Some(c) if is_meta(c) => return Err(self.err(format!("unexpected `{c}`"))),
                    _ => list.push(self.word()?),
                }
            }
            words = Some(list);
        } else if self.peek() == Some(';') {
            self.pos += 1;
        }
        self.expect_reserved("do")?;
        let body = self.script(&Stop::Words(&["done"]))?;
        self.expect_reserved("done")?;
        let redirects = self.trailing_redirects()?;
        Ok(Command::For {
            var,
            words,
            body,
            redirects,
        })
    }

    fn function_keyword(&mut self) -> Result<Command, ParseError> {
        self.pos += "function".len();
        self.skip_blank();
        let name = self
            .peek_bare_word()
            .ok_or_else(|| self.err("expected a function name"))?;
        self.pos += name.chars().count();
        self.skip_blank();
        if self.starts_with("()") {
            self.pos += 2;
        }
        self.function_body(name)
    }

    fn function_body(&mut self, name: String) -> Result<Command, ParseError> {
        self.linebreak()?;
        let body = self.command()?;
        if matches!(body, Command::Simple(_) | Command::FunctionDef { .. }) {
            return Err(self.err("a function body must be a compound command"));
        }
        Ok(Command::FunctionDef {
            name,
            body: Box::new(body),
        })
    }

    fn simple_command(&mut self) -> Result<Command, ParseError> {
        let mut cmd = SimpleCommand::default();
        let mut in_test = false; // inside `[[ ... ]]`
        loop {
            self.skip_blank();
            let Some(c) = self.peek() else { break };
            if in_test {
                if self.peek_bare_word().as_deref() == Some("]]") {
                    self.pos += 2;
                    cmd.words.push(bare("]]"));
                    in_test = false;
                    continue;
                }
                // Inside `[[ ]]`, operators are plain words.
                let op = ["&&", "||", "<", ">", "(", ")", "!"]
                    .into_iter()
                    .find(|op| self.starts_with(op));
                if let Some(op) = op {
                    self.pos += op.len();
                    cmd.words.push(bare(op));
                    continue;
                }
                if c == '\n' {
                    return Err(self.err("unterminated `[[`"));
                }
                cmd.words.push(self.word()?);
                continue;
            }
            if matches!(c, '<' | '>') && self.peek_at(1) == Some('(') {
                cmd.words.push(self.word()?);
                continue;
            }
            if let Some(r) = self.try_redirect()? {
                cmd.redirects.push(r);
                continue;
            }
            if is_meta(c) {
                if c == '(' && cmd.words.len() == 1 && cmd.assignments.is_empty() {
                    // `name() body`
                    let name = cmd.words[0]
                        .literal()
                        .filter(|_| cmd.words[0].is_bare())
                        .ok_or_else(|| self.err("bad function name"))?;
                    self.pos += 1;
                    self.skip_blank();
                    if self.peek() != Some(')') {
                        return Err(self.err("expected `)` after function name"));
                    }
                    self.pos += 1;
                    return self.function_body(name);
                }
                break;
            }
            let word = self.word()?;
            if cmd.words.is_empty() {
                if let Some(a) = as_assignment(&word) {
                    cmd.assignments.push(a);
                    continue;
                }
                if word.is_bare() && word.literal().as_deref() == Some("[[") {
                    in_test = true;
                }
            }
            cmd.words.push(word);
        }
        if in_test {
            return Err(self.err("unterminated `[[`"));
        }
        if cmd.words.is_empty() && cmd.assignments.is_empty() && cmd.redirects.is_empty() {
            return Err(self.err(format!(
                "expected a command, found `{}`",
                self.peek_char_str()
            )));
        }
        Ok(Command::Simple(cmd))
    }

    /// Parses a redirection if one starts here (with an optional fd number).
    fn try_redirect(&mut self) -> Result<Option<Redirect>, ParseError> {
        let start = self.pos;
        let mut fd = None;
        let mut digits = String::new();
        while let Some(c) = self.peek().filter(char::is_ascii_digit) {
            digits.push(c);
            self.pos += 1;
        }
        if !digits.is_empty() {
            if matches!(self.peek(), Some('<' | '>')) {
                fd = digits.parse().ok();
                if fd.is_none() {
                    return Err(self.err("file descriptor out of range"));
                }
            } else {
                self.pos = start;
                return Ok(None);
            }
        }
        let ops: &[(&str, RedirOp)] = &[
            ("&>>", RedirOp::AppendBoth),
            ("&>", RedirOp::WriteBoth),
            ("<<<", RedirOp::HereString),
            ("<<-", RedirOp::HereDoc),
            ("<<", RedirOp::HereDoc),
            ("<>", RedirOp::ReadWrite),
            ("<&", RedirOp::DupIn),
            ("<", RedirOp::Read),
            (">>", RedirOp::Append),
            (">|", RedirOp::Write),
            (">&", RedirOp::DupOut),
            (">", RedirOp::Write),
        ];
        let Some(&(text, op)) = ops.iter().find(|(t, _)| self.starts_with(t)) else {
            self.pos = start;
            return Ok(None);
        };
        if fd.is_some() && text.starts_with('&') {
            self.pos = start;
            return Ok(None);
        }
        self.pos += text.len();
        self.skip_blank();
        if op == RedirOp::HereDoc {
            let strip_tabs = text == "<<-";
            let word = self.word()?;
            let quoted = !word.is_bare();
            let delimiter = word
                .literal()
                .ok_or_else(|| self.err("here-document delimiter must be static"))?;
            let id = self.next_heredoc;
            self.next_heredoc += 1;
            self.pending.push(PendingHeredoc {
                id,
                delimiter: delimiter.clone(),
                quoted,
                strip_tabs,
            });
            return Ok(Some(Redirect {
                fd,
                op,
                target: RedirTarget::HereDoc(HereDoc {
                    delimiter,
                    quoted,
                    strip_tabs,
                    body: Word::default(),
                    id,
                }),
            }));
        }
        match self.peek() {
            None => return Err(self.err("missing redirection target")),
            Some('<' | '>') if self.peek_at(1) == Some('(') => {}
            Some(c) if is_meta(c) => {
                return Err(self.err(format!("unexpected `{c}` after redirection")));
            }
            _ => {}
        }
        let target = self.word()?;
        Ok(Some(Redirect {
            fd,
            op,
            target: RedirTarget::Word(target),
        }))
    }

    /// Reads a here-document body up to its delimiter line.
    fn heredoc_body(&mut self, doc: &PendingHeredoc) -> Result<Word, ParseError> {
        let mut lines = Vec::new();
        loop {
            if self.eof() {
                return Err(self.err(format!(
                    "here-document delimited by `{}` is unterminated",
                    doc.delimiter
                )));
            }
            let mut line = String::new();
            while let Some(c) = self.peek() {
                self.pos += 1;
                if c == '\n' {
                    break;
                }
                line.push(c);
            }
            let check = if doc.strip_tabs {
                line.trim_start_matches('\t')
            } else {
                &line
            };
            if check == doc.delimiter {
                break;
            }
            lines.push(check.to_string());
        }
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        if doc.quoted {
            return Ok(Word {
                parts: vec![WordPart::Quoted(text)],
            });
        }
        // An unquoted body expands `$x`, `$(..)` and backticks: parse it as the
        // inside of double quotes where `"` is an ordinary character.
        let mut sub = Parser {
            chars: text.chars().collect(),
            pos: 0,
            depth: self.depth,
            pending: Vec::new(),
            bodies: HashMap::new(),
            next_heredoc: self.next_heredoc,
        };
        let mut parts = sub.dquoted_parts(None)?;
        self.next_heredoc = sub.next_heredoc;
        if !sub.pending.is_empty() {
            return Err(self.err("here-document inside a here-document is not supported"));
        }
        fill_heredocs_parts(&mut parts, &mut sub.bodies);
        Ok(Word {
            parts: vec![WordPart::DoubleQuoted(parts)],
        })
    }

    /// A word, up to the next metacharacter.
    fn word(&mut self) -> Result<Word, ParseError> {
        let mut parts = Vec::new();
        let mut bare_buf = String::new();
        let flush = |buf: &mut String, parts: &mut Vec<WordPart>| {
            if !buf.is_empty() {
                parts.push(WordPart::Bare(std::mem::take(buf)));
            }
        };
        while let Some(c) = self.peek() {
            match c {
                '<' | '>'
                    if self.peek_at(1) == Some('(') && parts.is_empty() && bare_buf.is_empty() =>
                {
                    self.pos += 2;
                    self.enter()?;
                    let body = self.script(&Stop::Paren)?;
                    self.depth -= 1;
                    if self.peek() != Some(')') {
                        return Err(self.err("unterminated process substitution"));
                    }
                    self.pos += 1;
                    parts.push(WordPart::ProcessSubst {
                        output: c == '>',
                        body,
                    });
                }
                c if is_meta(c) => break,
                '\\' => {
                    self.pos += 1;
                    match self.peek() {
                        Some('\n') => self.pos += 1,
                        Some(e) => {
                            self.pos += 1;
                            flush(&mut bare_buf, &mut parts);
                            parts.push(WordPart::Quoted(e.to_string()));
                        }
                        None => return Err(self.err("trailing backslash")),
                    }
                }
                '\'' => {
                    self.pos += 1;
                    let mut s = String::new();
                    loop {
                        match self.peek() {
                            None => return Err(self.err("unterminated single quote")),
                            Some('\'') => {
                                self.pos += 1;
                                break;
                            }
                            Some(ch) => {
                                s.push(ch);
                                self.pos += 1;
                            }
                        }
                    }
                    flush(&mut bare_buf, &mut parts);
                    parts.push(WordPart::Quoted(s));
                }
                '"' => {
                    self.pos += 1;
                    let inner = self.dquoted_parts(Some('"'))?;
                    flush(&mut bare_buf, &mut parts);
                    parts.push(WordPart::DoubleQuoted(inner));
                }
                '$' if self.peek_at(1) == Some('\'') => {
                    self.pos += 2;
                    let s = self.ansi_c()?;
                    flush(&mut bare_buf, &mut parts);
                    parts.push(WordPart::Quoted(s));
                }
                '$' if self.peek_at(1) == Some('"') => {
                    // Locale translation: behaves as double quotes.
                    self.pos += 2;
                    let inner = self.dquoted_parts(Some('"'))?;
                    flush(&mut bare_buf, &mut parts);
                    parts.push(WordPart::DoubleQuoted(inner));
                }
                '$' | '`' => {
                    flush(&mut bare_buf, &mut parts);
                    match self.dollar_or_backtick()? {
                        Some(p) => parts.push(p),
                        None => bare_buf.push('$'),
                    }
                }
                '{' if bare_buf.is_empty() && parts.is_empty() => {
                    // `{` alone is a reserved word handled by the caller; inside a
                    // word it is literal (brace expansion is the classifier's job).
                    bare_buf.push(c);
                    self.pos += 1;
                }
                _ => {
                    bare_buf.push(c);
                    self.pos += 1;
                }
            }
        }
        flush(&mut bare_buf, &mut parts);
        if parts.is_empty() {
            return Err(self.err(format!("expected a word, found `{}`", self.peek_char_str())));
        }
        Ok(Word { parts })
    }

    /// Parts inside double quotes, up to `end` (or end of input for here-docs).
    fn dquoted_parts(&mut self, end: Option<char>) -> Result<Vec<WordPart>, ParseError> {
        let mut parts = Vec::new();
        let mut buf = String::new();
        loop {
            let Some(c) = self.peek() else {
                if end.is_some() {
                    return Err(self.err("unterminated double quote"));
                }
                break;
            };
            if Some(c) == end {
                self.pos += 1;
                break;
            }
            match c {
                '\\' => {
                    self.pos += 1;
                    match self.peek() {
                        Some('\n') => self.pos += 1,
                        Some(e @ ('$' | '`' | '"' | '\\')) => {
                            buf.push(e);
                            self.pos += 1;
                        }
                        _ => buf.push('\\'),
                    }
                }
                '$' | '`' => {
                    if !buf.is_empty() {
                        parts.push(WordPart::Quoted(std::mem::take(&mut buf)));
                    }
                    match self.dollar_or_backtick()? {
                        Some(p) => parts.push(p),
                        None => buf.push('$'),
                    }
                }
                _ => {
                    buf.push(c);
                    self.pos += 1;
                }
            }
        }
        if !buf.is_empty() {
            parts.push(WordPart::Quoted(buf));
        }
        Ok(parts)
    }

    /// `$name`, `${..}`, `$(..)`, `$((..))` or a backtick substitution.
    /// Returns `None` for a lone `$` (consumed), which is literal.
    fn dollar_or_backtick(&mut self) -> Result<Option<WordPart>, ParseError> {
        if self.peek() == Some('`') {
            self.pos += 1;
            let mut inner = String::new();
            loop {
                match self.peek() {
                    None => return Err(self.err("unterminated backtick")),
                    Some('`') => {
                        self.pos += 1;
                        break;
                    }
                    Some('\\') if matches!(self.peek_at(1), Some('`' | '\\' | '$')) => {
                        inner.push(self.peek_at(1).unwrap_or('\\'));
                        self.pos += 2;
                    }
                    Some(ch) => {
                        inner.push(ch);
                        self.pos += 1;
                    }
                }
            }
            let mut sub = Parser {
                chars: inner.chars().collect(),
                pos: 0,
                depth: self.depth + 1,
                pending: Vec::new(),
                bodies: HashMap::new(),
                // Ids stay unique across sub-parsers so filling never mixes bodies up.
                next_heredoc: self.next_heredoc,
            };
            if sub.depth > MAX_DEPTH {
                return Err(self.err("nesting too deep"));
            }
            let mut script = sub.script(&Stop::Eof)?;
            self.next_heredoc = sub.next_heredoc;
            if !sub.pending.is_empty() {
                return Err(self.err("unterminated here-document in backticks"));
            }
            fill_heredocs_script(&mut script, &mut sub.bodies);
            return Ok(Some(WordPart::CommandSubst(script)));
        }
        // At `$`.
        self.pos += 1;
        match self.peek() {
            Some('(') if self.peek_at(1) == Some('(') => {
                self.pos += 2;
                let mut depth = 0usize;
                let mut expr = String::new();
                loop {
                    match self.peek() {
                        None => return Err(self.err("unterminated `$((`")),
                        Some(')') if depth == 0 && self.peek_at(1) == Some(')') => {
                            self.pos += 2;
                            break;
                        }
                        Some(ch) => {
                            if ch == '(' {
                                depth += 1;
                            } else if ch == ')' {
                                depth = depth.saturating_sub(1);
                            }
                            expr.push(ch);
                            self.pos += 1;
                        }
                    }
                }
                if expr.contains("$(") || expr.contains('`') {
                    return Err(self.err("command substitution inside `$((..))` is not supported"));
                }
                Ok(Some(WordPart::Arith(expr)))
            }
            Some('(') => {
                self.pos += 1;
                let body = self.script(&Stop::Paren)?;
                if self.peek() != Some(')') {
                    return Err(self.err("unterminated `$(`"));
                }
                self.pos += 1;
                Ok(Some(WordPart::CommandSubst(body)))
            }
            Some('{') => {
                self.pos += 1;
                let mut depth = 0usize;
                let mut raw = String::new();
                loop {
                    match self.peek() {
                        None => return Err(self.err("unterminated `${`")),
                        Some('}') if depth == 0 => {
                            self.pos += 1;
                            break;
                        }
                        Some(ch) => {
                            if ch == '{' {
                                depth += 1;
                            } else if ch == '}' {
                                depth -= 1;
                            }
                            raw.push(ch);
                            self.pos += 1;
                        }
                    }
                }
                if raw.contains("$(")
                    || raw.contains('`')
                    || raw.contains("<(")
                    || raw.contains(">(")
                {
                    return Err(self.err("command substitution inside `${..}` is not supported"));
                }
                Ok(Some(WordPart::Param(raw)))
            }
            Some(c) if c == '_' || c.is_ascii_alphabetic() => {
                let mut name = String::new();
                while let Some(c) = self
                    .peek()
                    .filter(|c| *c == '_' || c.is_ascii_alphanumeric())
                {
                    name.push(c);
                    self.pos += 1;
                }
                Ok(Some(WordPart::Param(name)))
            }
            Some(c) if c.is_ascii_digit() || "@*#?$!-".contains(c) => {
                self.pos += 1;
                Ok(Some(WordPart::Param(c.to_string())))
            }
            _ => Ok(None),
        }
    }

    /// Decodes the body of `$'...'` (positioned after the opening quote).
    fn ansi_c(&mut self) -> Result<String, ParseError> {
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err("unterminated `$'`"));
            };
            self.pos += 1;
            match c {
                '\'' => return Ok(out),
                '\\' => {
                    let Some(e) = self.peek() else {
                        return Err(self.err("unterminated `$'`"));
                    };
                    self.pos += 1;
                    match e {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        'a' => out.push('\x07'),
                        'b' => out.push('\x08'),
                        'e' | 'E' => out.push('\x1b'),
                        'f' => out.push('\x0c'),
                        'v' => out.push('\x0b'),
                        '\\' | '\'' | '"' | '?' => out.push(e),
                        'x' => {
                            let v = self.hex_digits(2);
                            match v {
                                Some(v) => out.push(char::from_u32(v).unwrap_or('\u{fffd}')),
                                None => out.push_str("\\x"),
                            }
                        }
                        'u' | 'U' => {
                            let max = if e == 'u' { 4 } else { 8 };
                            match self.hex_digits(max).and_then(char::from_u32) {
                                Some(ch) => out.push(ch),
                                None => return Err(self.err("bad unicode escape in `$'`")),
                            }
                        }
                        'c' => {
                            let Some(ch) = self.peek() else {
                                return Err(self.err("unterminated `$'`"));
                            };
                            self.pos += 1;
                            out.push(char::from_u32((ch as u32) & 0x1f).unwrap_or('\u{fffd}'));
                        }
                        '0'..='7' => {
                            let mut v = e.to_digit(8).unwrap_or(0);
                            for _ in 0..2 {
                                match self.peek().and_then(|c| c.to_digit(8)) {
                                    Some(d) => {
                                        v = v * 8 + d;
                                        self.pos += 1;
                                    }
                                    None => break,
                                }
                            }
                            out.push(char::from_u32(v & 0xff).unwrap_or('\u{fffd}'));
                        }
                        other => {
                            out.push('\\');
                            out.push(other);
                        }
                    }
                }
                _ => out.push(c),
            }
        }
    }

    fn hex_digits(&mut self, max: usize) -> Option<u32> {
        let mut v = 0u32;
        let mut n = 0;
        while n < max {
            match self.peek().and_then(|c| c.to_digit(16)) {
                Some(d) => {
                    v = v.wrapping_mul(16).wrapping_add(d);
                    self.pos += 1;
                    n += 1;
                }
                None => break,
            }
        }
        (n > 0).then_some(v)
    }
}

fn bare(s: &str) -> Word {
    Word {
        parts: vec![WordPart::Bare(s.to_string())],
    }
}

/// `NAME=value` / `NAME+=value` with an unquoted name is an assignment.
fn as_assignment(word: &Word) -> Option<Assignment> {
    let WordPart::Bare(first) = word.parts.first()? else {
        return None;
    };
    let eq = first.find('=')?;
    let name = first[..eq].strip_suffix('+').unwrap_or(&first[..eq]);
    if !is_name(name) {
        return None;
    }
    let mut parts = Vec::new();
    let rest = &first[eq + 1..];
    if !rest.is_empty() {
        parts.push(WordPart::Bare(rest.to_string()));
    }
    parts.extend(word.parts[1..].iter().cloned());
    Some(Assignment {
        name: name.to_string(),
        value: Word { parts },
    })
}

// ---------------------------------------------------------------------------
// Here-document bodies are read after the line that declares them; put them
// into the AST, by id, once parsing is done.

fn fill_heredocs_script(script: &mut Script, bodies: &mut HashMap<usize, Word>) {
    walk_script(script, &mut |h: &mut HereDoc| {
        if let Some(body) = bodies.remove(&h.id) {
            h.body = body;
        }
    });
}

fn fill_heredocs_parts(parts: &mut [WordPart], bodies: &mut HashMap<usize, Word>) {
    walk_parts(parts, &mut |h: &mut HereDoc| {
        if let Some(body) = bodies.remove(&h.id) {
            h.body = body;
        }
    });
}

fn walk_script(script: &mut Script, f: &mut dyn FnMut(&mut HereDoc)) {
    for item in &mut script.items {
        walk_pipeline(&mut item.and_or.first, f);
        for (_, p) in &mut item.and_or.rest {
            walk_pipeline(p, f);
        }
    }
}

fn walk_pipeline(p: &mut Pipeline, f: &mut dyn FnMut(&mut HereDoc)) {
    for c in &mut p.commands {
        walk_command(c, f);
    }
}

fn walk_redirects(rs: &mut [Redirect], f: &mut dyn FnMut(&mut HereDoc)) {
    for r in rs {
        match &mut r.target {
            RedirTarget::HereDoc(h) => {
                walk_parts(&mut h.body.parts, f);
                f(h);
            }
            RedirTarget::Word(w) => walk_parts(&mut w.parts, f),
        }
    }
}

fn walk_command(c: &mut Command, f: &mut dyn FnMut(&mut HereDoc)) {
    match c {
        Command::Simple(s) => {
            for a in &mut s.assignments {
                walk_parts(&mut a.value.parts, f);
            }
            for w in &mut s.words {
                walk_parts(&mut w.parts, f);
            }
            walk_redirects(&mut s.redirects, f);
        }
        Command::Subshell { body, redirects } | Command::Group { body, redirects } => {
            walk_script(body, f);
            walk_redirects(redirects, f);
        }
        Command::If {
            branches,
            else_body,
            redirects,
        } => {
            for (c, b) in branches {
                walk_script(c, f);
                walk_script(b, f);
            }
            if let Some(e) = else_body {
                walk_script(e, f);
            }
            walk_redirects(redirects, f);
        }
        Command::While {
            condition,
            body,
            redirects,
            ..
        } => {
            walk_script(condition, f);
            walk_script(body, f);
            walk_redirects(redirects, f);
        }
        Command::For {
            words,
            body,
            redirects,
            ..
        } => {
            for w in words.iter_mut().flatten() {
                walk_parts(&mut w.parts, f);
            }
            walk_script(body, f);
            walk_redirects(redirects, f);
        }
        Command::FunctionDef { body, .. } => walk_command(body, f),
    }
}

fn walk_parts(ps: &mut [WordPart], f: &mut dyn FnMut(&mut HereDoc)) {
    for p in ps {
        match p {
            WordPart::CommandSubst(s) | WordPart::ProcessSubst { body: s, .. } => walk_script(s, f),
            WordPart::DoubleQuoted(inner) => walk_parts(inner, f),
            _ => {}
        }
    }
}
