//! Runbooks: parsing the operator's Markdown files, finding the runbook for an
//! alert, and filling command placeholders from alert hints.
//!
//! Pure: the caller reads the files (one per alert, named `<AlertName>.md`)
//! and passes the text in.
//!
//! # Format
//!
//! ````markdown
//! ---
//! matches: ServiceUnreachable, HostSystemdServiceCrashed
//! ---
//! # ServiceDown
//!
//! ## Overview
//! What the alert means, in prose.
//!
//! ## Investigation
//! 1. Numbered steps.
//!
//! ## Common causes
//! - Bullets.
//!
//! ## Commands
//! ### Diagnostics
//! ```sh
//! systemctl status {service} --no-pager
//! ```
//! ### Remediation
//! ```sh
//! systemctl restart {service}
//! ```
//! ````
//!
//! - The front matter is optional. Its only key is `matches`: aliases, given
//!   comma-separated (optionally in `[ ]`, optionally quoted) or as `- Name` lines.
//! - `# Title` is optional and defaults to the alert name. Section headings are
//!   matched case-insensitively; other `##` sections (escalation, references)
//!   are allowed and kept only in [`Runbook::markdown`].
//! - Code blocks under `## Commands` must sit under `### Diagnostics` or
//!   `### Remediation` and be `sh`, `bash`, `shell` or unlabelled. One command per
//!   line; blank lines and `#` comments are skipped; a trailing `\` continues a line.
//! - Commands may use the placeholders in [`PLACEHOLDERS`], written `{name}`.
//!   `{{…}}` (Go templates for `docker --format`) and `${…}` (shell) are not
//!   placeholders and are left alone.
//!
//! # Matching
//!
//! [`RunbookLibrary::find`] tries, in order:
//! 1. the runbook whose name equals the alert name (case-sensitive);
//! 2. a runbook listing the alert name in `matches:` (case-insensitive);
//! 3. the longest runbook name or alias that is a case-insensitive prefix of the
//!    alert name and ends on a word boundary: `ContainerDownFrigate` and
//!    `ContainerDown_nas` use `ContainerDown`, `ServiceDownstream` does not use
//!    `ServiceDown`. Only the runbook key may be the shorter side: a short alert
//!    name such as `Disk` never picks `DiskSpaceLow`, since that would guess.
//!
//! Ties go to the runbook whose name sorts first, so the result never depends
//! on load order.

use std::collections::BTreeMap;

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Parser, Tag, TagEnd};

use crate::domain::{Runbook, RunbookCommand};

/// The placeholders a runbook command may use; the planner fills them from the alert's hints.
pub const PLACEHOLDERS: [&str; 5] = ["host", "container", "service", "system", "mountpoint"];

/// A runbook file that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("runbook {alert}: {problem}")]
pub struct RunbookError {
    alert: String,
    problem: RunbookProblem,
}

impl RunbookError {
    fn new(alert: &str, problem: RunbookProblem) -> Self {
        RunbookError {
            alert: alert.to_string(),
            problem,
        }
    }

    /// The alert name of the runbook (its file name without `.md`).
    pub fn alert(&self) -> &str {
        &self.alert
    }

    pub fn problem(&self) -> &RunbookProblem {
        &self.problem
    }
}

/// What is wrong with a runbook.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RunbookProblem {
    #[error("`{0}` is not a valid alert name")]
    InvalidName(String),
    #[error("front matter is not closed by a `---` line")]
    UnclosedFrontMatter,
    #[error("front matter line {line} is not `key: value`: `{text}`")]
    FrontMatterSyntax { line: usize, text: String },
    #[error("unknown front matter key `{0}` (the only key is `matches`)")]
    UnknownKey(String),
    #[error("alias `{0}` is not a valid alert name")]
    InvalidAlias(String),
    #[error("missing section `## {0}`")]
    MissingSection(&'static str),
    #[error("section `## {0}` appears twice")]
    DuplicateSection(&'static str),
    #[error("section `## {0}` is empty")]
    EmptySection(&'static str),
    #[error("commands section has no code block")]
    NoCodeBlock,
    #[error("commands section has no commands")]
    NoCommands,
    #[error("code block in commands section is not under `### Diagnostics` or `### Remediation`")]
    CodeBlockOutsideSubsection,
    #[error("unknown commands subsection `### {0}` (expected Diagnostics or Remediation)")]
    UnknownSubsection(String),
    #[error("code block language `{0}` in commands section is not a shell (use sh)")]
    NotShell(String),
    #[error("command `{0}` ends with a line continuation")]
    DanglingContinuation(String),
    #[error("command `{command}` uses unknown placeholder `{{{placeholder}}}`")]
    UnknownPlaceholder {
        command: String,
        placeholder: String,
    },
}

/// Parses the runbook for `alert_name` from its Markdown text.
pub fn parse(alert_name: &str, markdown: &str) -> Result<Runbook, RunbookError> {
    let fail = |problem| RunbookError::new(alert_name, problem);
    if !is_alert_name(alert_name) {
        return Err(fail(RunbookProblem::InvalidName(alert_name.to_string())));
    }
    let (front, body) = split_front_matter(markdown).map_err(fail)?;
    let aliases = match front {
        Some(front) => parse_front_matter(alert_name, front).map_err(fail)?,
        None => Vec::new(),
    };
    let sections = Sections::parse(body).map_err(fail)?;
    let Sections {
        title,
        overview,
        investigation,
        causes,
        commands,
        seen,
    } = sections;

    for (section, name) in [
        (Section::Overview, "Overview"),
        (Section::Investigation, "Investigation"),
        (Section::Causes, "Common causes"),
        (Section::Commands, "Commands"),
    ] {
        if !seen.contains(&section) {
            return Err(fail(RunbookProblem::MissingSection(name)));
        }
    }
    if overview.is_empty() {
        return Err(fail(RunbookProblem::EmptySection("Overview")));
    }
    if investigation.is_empty() {
        return Err(fail(RunbookProblem::EmptySection("Investigation")));
    }
    if causes.is_empty() {
        return Err(fail(RunbookProblem::EmptySection("Common causes")));
    }
    let Some(commands) = commands else {
        return Err(fail(RunbookProblem::NoCodeBlock));
    };
    if commands.is_empty() {
        return Err(fail(RunbookProblem::NoCommands));
    }
    for c in &commands {
        if let Some(placeholder) = placeholders(&c.command).find(|p| !PLACEHOLDERS.contains(p)) {
            return Err(fail(RunbookProblem::UnknownPlaceholder {
                command: c.command.clone(),
                placeholder: placeholder.to_string(),
            }));
        }
    }

    Ok(Runbook {
        alert_name: alert_name.to_string(),
        aliases,
        title: title.unwrap_or_else(|| alert_name.to_string()),
        overview,
        investigation,
        causes,
        commands,
        markdown: markdown.to_string(),
    })
}

/// Alert names as Prometheus rules write them; no whitespace, quotes or separators.
fn is_alert_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_:.-".contains(&b))
}

/// Splits off a `---` … `---` front matter block, if the text starts with one.
fn split_front_matter(markdown: &str) -> Result<(Option<&str>, &str), RunbookProblem> {
    let text = markdown.strip_prefix('\u{feff}').unwrap_or(markdown);
    let Some(first_end) = text.find('\n') else {
        return Ok((None, text));
    };
    if text[..first_end].trim_end() != "---" {
        return Ok((None, text));
    }
    let rest = &text[first_end + 1..];
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if matches!(line.trim_end(), "---" | "...") {
            return Ok((Some(&rest[..offset]), &rest[offset + line.len()..]));
        }
        offset += line.len();
    }
    Err(RunbookProblem::UnclosedFrontMatter)
}

fn parse_front_matter(alert_name: &str, front: &str) -> Result<Vec<String>, RunbookProblem> {
    let mut aliases: Vec<String> = Vec::new();
    let mut in_matches = false;
    for (index, raw) in front.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(item) = line.strip_prefix("- ")
            && in_matches
        {
            aliases.push(unquote(item).to_string());
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(RunbookProblem::FrontMatterSyntax {
                line: index + 2, // the opening `---` is line 1
                text: line.to_string(),
            });
        };
        if key.trim() != "matches" {
            return Err(RunbookProblem::UnknownKey(key.trim().to_string()));
        }
        in_matches = true;
        let value = value.trim();
        let value = value
            .strip_prefix('[')
            .and_then(|v| v.strip_suffix(']'))
            .unwrap_or(value);
        aliases.extend(
            value
                .split(',')
                .map(unquote)
                .filter(|a| !a.is_empty())
                .map(str::to_string),
        );
    }
    let mut unique: Vec<String> = Vec::new();
    for alias in aliases {
        if !is_alert_name(&alias) {
            return Err(RunbookProblem::InvalidAlias(alias));
        }
        if alias != alert_name && !unique.contains(&alias) {
            unique.push(alias);
        }
    }
    Ok(unique)
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    ['"', '\'']
        .iter()
        .find_map(|q| s.strip_prefix(*q).and_then(|s| s.strip_suffix(*q)))
        .unwrap_or(s)
        .trim()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Section {
    Overview,
    Investigation,
    Causes,
    Commands,
    Other,
}

impl Section {
    fn from_heading(heading: &str) -> Self {
        match heading.to_ascii_lowercase().as_str() {
            "overview" => Section::Overview,
            "investigation" => Section::Investigation,
            "common causes" => Section::Causes,
            "commands" => Section::Commands,
            _ => Section::Other,
        }
    }

    fn heading(self) -> &'static str {
        match self {
            Section::Overview => "Overview",
            Section::Investigation => "Investigation",
            Section::Causes => "Common causes",
            Section::Commands => "Commands",
            Section::Other => "",
        }
    }
}

/// The sections of a runbook body, gathered in one walk over the Markdown events.
#[derive(Debug, Default)]
struct Sections {
    title: Option<String>,
    overview: String,
    investigation: Vec<String>,
    causes: Vec<String>,
    /// `None` until the commands section holds a code block.
    commands: Option<Vec<RunbookCommand>>,
    seen: Vec<Section>,
}

/// Where text events go while walking.
#[derive(Debug, Default)]
struct Walk {
    section: Option<Section>,
    /// Under `### Remediation` (`Some(true)`) or `### Diagnostics` (`Some(false)`).
    remediation: Option<bool>,
    heading: Option<(HeadingLevel, String)>,
    code: Option<String>,
    list_depth: usize,
    item: Option<String>,
    paragraph: Option<String>,
}

impl Sections {
    fn parse(body: &str) -> Result<Self, RunbookProblem> {
        let mut out = Sections::default();
        let mut walk = Walk::default();
        for event in Parser::new(body) {
            match event {
                Event::Start(Tag::Heading { level, .. }) => {
                    walk.heading = Some((level, String::new()));
                }
                Event::End(TagEnd::Heading(_)) => {
                    if let Some((level, text)) = walk.heading.take() {
                        out.heading(&mut walk, level, normalise(&text))?;
                    }
                }
                Event::Start(Tag::CodeBlock(kind)) if walk.section == Some(Section::Commands) => {
                    if walk.remediation.is_none() {
                        return Err(RunbookProblem::CodeBlockOutsideSubsection);
                    }
                    if let CodeBlockKind::Fenced(info) = &kind {
                        let lang = info.split_whitespace().next().unwrap_or("");
                        if !matches!(lang, "" | "sh" | "bash" | "shell") {
                            return Err(RunbookProblem::NotShell(lang.to_string()));
                        }
                    }
                    walk.code = Some(String::new());
                }
                Event::End(TagEnd::CodeBlock) => {
                    if let (Some(code), Some(remediation)) = (walk.code.take(), walk.remediation) {
                        let commands = out.commands.get_or_insert_with(Vec::new);
                        for command in split_commands(&code)? {
                            commands.push(RunbookCommand {
                                command,
                                remediation,
                            });
                        }
                    }
                }
                Event::Start(Tag::List(_)) => walk.list_depth += 1,
                Event::End(TagEnd::List(_)) => walk.list_depth = walk.list_depth.saturating_sub(1),
                Event::Start(Tag::Item) if walk.list_depth == 1 => walk.item = Some(String::new()),
                Event::End(TagEnd::Item) if walk.list_depth == 1 => {
                    if let Some(item) = walk.item.take() {
                        out.item(walk.section, normalise(&item));
                    }
                }
                Event::Start(Tag::Paragraph) if walk.list_depth == 0 => {
                    walk.paragraph = Some(String::new());
                }
                Event::End(TagEnd::Paragraph) => {
                    if let Some(paragraph) = walk.paragraph.take()
                        && walk.section == Some(Section::Overview)
                    {
                        out.push_overview(&normalise(&paragraph), "\n\n");
                    }
                    if let Some(item) = &mut walk.item {
                        item.push(' ');
                    }
                }
                Event::Text(text) => walk.push_text(&text),
                Event::Code(code) => walk.push_text(&format!("`{code}`")),
                Event::SoftBreak | Event::HardBreak => walk.push_text(" "),
                _ => {}
            }
        }
        Ok(out)
    }

    fn heading(
        &mut self,
        walk: &mut Walk,
        level: HeadingLevel,
        text: String,
    ) -> Result<(), RunbookProblem> {
        match level {
            HeadingLevel::H1 if self.title.is_none() && !text.is_empty() => {
                self.title = Some(text);
            }
            HeadingLevel::H2 => {
                let section = Section::from_heading(&text);
                if section != Section::Other {
                    if self.seen.contains(&section) {
                        return Err(RunbookProblem::DuplicateSection(section.heading()));
                    }
                    self.seen.push(section);
                }
                walk.section = Some(section);
                walk.remediation = None;
            }
            HeadingLevel::H3 if walk.section == Some(Section::Commands) => {
                walk.remediation = match text.to_ascii_lowercase().as_str() {
                    "diagnostics" => Some(false),
                    "remediation" => Some(true),
                    _ => return Err(RunbookProblem::UnknownSubsection(text)),
                };
            }
            _ => {}
        }
        Ok(())
    }

    fn item(&mut self, section: Option<Section>, text: String) {
        if text.is_empty() {
            return;
        }
        match section {
            Some(Section::Investigation) => self.investigation.push(text),
            Some(Section::Causes) => self.causes.push(text),
            Some(Section::Overview) => self.push_overview(&format!("- {text}"), "\n"),
            _ => {}
        }
    }

    fn push_overview(&mut self, text: &str, separator: &str) {
        if text.is_empty() {
            return;
        }
        if !self.overview.is_empty() {
            // A list after a paragraph, or a paragraph after a list, still gets a blank line.
            let after_item = self
                .overview
                .rsplit('\n')
                .next()
                .is_some_and(|l| l.starts_with("- "));
            let separator = if after_item == text.starts_with("- ") {
                separator
            } else {
                "\n\n"
            };
            self.overview.push_str(separator);
        }
        self.overview.push_str(text);
    }
}

impl Walk {
    fn push_text(&mut self, text: &str) {
        let sink = if let Some((_, heading)) = &mut self.heading {
            heading
        } else if let Some(code) = &mut self.code {
            code
        } else if let Some(item) = &mut self.item {
            item
        } else if let Some(paragraph) = &mut self.paragraph {
            paragraph
        } else {
            return;
        };
        sink.push_str(text);
    }
}

/// Collapses runs of whitespace (soft breaks, indentation) into single spaces.
fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One command per line; skips blank lines and `#` comments; joins `\` continuations.
fn split_commands(code: &str) -> Result<Vec<String>, RunbookProblem> {
    let mut commands = Vec::new();
    let mut pending = String::new();
    for line in code.lines() {
        let line = line.trim();
        if pending.is_empty() && (line.is_empty() || line.starts_with('#')) {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head.trim_end());
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        commands.push(std::mem::take(&mut pending).trim().to_string());
    }
    let pending = pending.trim();
    if !pending.is_empty() {
        return Err(RunbookProblem::DanglingContinuation(pending.to_string()));
    }
    Ok(commands)
}

/// A piece of a command template.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Literal(&'a str),
    Placeholder(&'a str),
}

/// Splits a command into literal text and `{name}` placeholders, where `name`
/// is `[a-z][a-z0-9_]*` and the braces are not part of `{{…}}` or `${…}`.
fn pieces(command: &str) -> Vec<Piece<'_>> {
    let bytes = command.as_bytes();
    let mut out = Vec::new();
    let mut literal_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'{'
            && let Some(len) = placeholder_len(&bytes[i + 1..])
        {
            let close = i + 1 + len;
            let before = i.checked_sub(1).map(|j| bytes[j]);
            let after = bytes.get(close + 1).copied();
            if !matches!(before, Some(b'{' | b'$')) && after != Some(b'}') {
                if literal_start < i {
                    out.push(Piece::Literal(&command[literal_start..i]));
                }
                out.push(Piece::Placeholder(&command[i + 1..close]));
                i = close + 1;
                literal_start = i;
                continue;
            }
        }
        i += 1;
    }
    if literal_start < command.len() {
        out.push(Piece::Literal(&command[literal_start..]));
    }
    out
}

/// Length of `name` when `rest` starts with `name}`.
fn placeholder_len(rest: &[u8]) -> Option<usize> {
    let len = rest.iter().position(|&b| b == b'}')?;
    let name = &rest[..len];
    let valid = name.first().is_some_and(u8::is_ascii_lowercase)
        && name
            .iter()
            .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    valid.then_some(len)
}

/// The placeholder names a command uses, in order.
pub fn placeholders(command: &str) -> impl Iterator<Item = &str> {
    pieces(command).into_iter().filter_map(|piece| match piece {
        Piece::Placeholder(name) => Some(name),
        Piece::Literal(_) => None,
    })
}

/// Replaces `{placeholder}`s in `command` with `values`.
///
/// Returns `None` when a placeholder has no value (the command cannot be used
/// for this alert) or a value is unsafe. Values come from alert labels and are
/// untrusted: see [`is_safe_value`].
pub fn fill(command: &str, values: &BTreeMap<String, String>) -> Option<String> {
    let mut out = String::with_capacity(command.len());
    for piece in pieces(command) {
        match piece {
            Piece::Literal(text) => out.push_str(text),
            Piece::Placeholder(name) => {
                let value = values.get(name)?;
                if !is_safe_value(value) {
                    return None;
                }
                out.push_str(value);
            }
        }
    }
    Some(out)
}

/// A value may replace a placeholder: non-empty, only `[A-Za-z0-9_.:/@-]`, not
/// starting with `-` (it would read as an option) and without `..` (no path traversal).
pub fn is_safe_value(value: &str) -> bool {
    !value.is_empty()
        && !value.starts_with('-')
        && !value.contains("..")
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.:/@-".contains(&b))
}

/// The runbooks Jarvis knows, for lookup by alert name.
#[derive(Clone, Debug, Default)]
pub struct RunbookLibrary {
    /// Sorted by alert name, names unique.
    runbooks: Vec<Runbook>,
}

impl RunbookLibrary {
    /// A runbook replaces an earlier one with the same name, so operator runbooks
    /// loaded after the shipped ones override them.
    pub fn new(runbooks: Vec<Runbook>) -> Self {
        let by_name: BTreeMap<String, Runbook> = runbooks
            .into_iter()
            .map(|runbook| (runbook.alert_name.clone(), runbook))
            .collect();
        RunbookLibrary {
            runbooks: by_name.into_values().collect(),
        }
    }

    /// The runbook for an alert: exact name, then alias, then longest prefix
    /// (see the module documentation).
    pub fn find(&self, alert_name: &str) -> Option<&Runbook> {
        if let Ok(index) = self
            .runbooks
            .binary_search_by(|r| r.alert_name.as_str().cmp(alert_name))
        {
            return Some(&self.runbooks[index]);
        }
        if let Some(runbook) = self.runbooks.iter().find(|r| {
            r.aliases
                .iter()
                .any(|alias| alias.eq_ignore_ascii_case(alert_name))
        }) {
            return Some(runbook);
        }
        let mut best: Option<(usize, &Runbook)> = None;
        for runbook in &self.runbooks {
            for key in std::iter::once(&runbook.alert_name).chain(&runbook.aliases) {
                if is_word_prefix(key, alert_name) && best.is_none_or(|(len, _)| key.len() > len) {
                    best = Some((key.len(), runbook));
                }
            }
        }
        best.map(|(_, runbook)| runbook)
    }

    /// All runbooks, sorted by name.
    pub fn all(&self) -> impl Iterator<Item = &Runbook> {
        self.runbooks.iter()
    }

    pub fn len(&self) -> usize {
        self.runbooks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.runbooks.is_empty()
    }
}

/// `key` is a case-insensitive prefix of `name`, and `name` continues (if at
/// all) with something other than a lowercase letter: a new CamelCase word, a
/// digit or a separator.
fn is_word_prefix(key: &str, name: &str) -> bool {
    let Some(head) = name.get(..key.len()) else {
        return false;
    };
    !key.is_empty()
        && head.eq_ignore_ascii_case(key)
        && !name[key.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: [(&str, &str); 8] = [
        ("BackupStale", include_str!("../../runbooks/BackupStale.md")),
        (
            "CertificateExpiring",
            include_str!("../../runbooks/CertificateExpiring.md"),
        ),
        (
            "ContainerDown",
            include_str!("../../runbooks/ContainerDown.md"),
        ),
        (
            "DiskSpaceLow",
            include_str!("../../runbooks/DiskSpaceLow.md"),
        ),
        (
            "FrigateDatabaseError",
            include_str!("../../runbooks/FrigateDatabaseError.md"),
        ),
        (
            "HighMemoryUsage",
            include_str!("../../runbooks/HighMemoryUsage.md"),
        ),
        ("ServiceDown", include_str!("../../runbooks/ServiceDown.md")),
        (
            "WireGuardVPNDown",
            include_str!("../../runbooks/WireGuardVPNDown.md"),
        ),
    ];

    fn shipped() -> Vec<Runbook> {
        SHIPPED
            .iter()
            .map(|(name, text)| parse(name, text).unwrap_or_else(|e| panic!("{e}")))
            .collect()
    }

    fn library() -> RunbookLibrary {
        RunbookLibrary::new(shipped())
    }

    /// A minimal valid runbook with the given front matter and commands section.
    fn doc(front: &str, commands: &str) -> String {
        format!(
            "{front}# Title\n\n## Overview\n\nWhat it is.\n\n## Investigation\n\n1. Look.\n\n\
             ## Common causes\n\n- A cause.\n\n## Commands\n\n{commands}"
        )
    }

    const COMMANDS: &str = "### Diagnostics\n\n```sh\ndf -h\n```\n\n### Remediation\n\n```sh\ndocker restart {container}\n```\n";

    fn runbook(name: &str, aliases: &[&str]) -> Runbook {
        Runbook {
            alert_name: name.to_string(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            ..Runbook::default()
        }
    }

    fn check_find(library: &RunbookLibrary, alert: &str, expected: Option<&str>) {
        assert_eq!(
            library.find(alert).map(|r| r.alert_name.as_str()),
            expected,
            "find({alert})"
        );
    }

    fn problem(name: &str, markdown: &str) -> RunbookProblem {
        parse(name, markdown)
            .expect_err("runbook should not parse")
            .problem
    }

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_shipped_runbook_parses_with_diagnostics_and_remediation() {
        for runbook in shipped() {
            let name = &runbook.alert_name;
            assert_eq!(runbook.title, *name);
            assert!(!runbook.overview.is_empty(), "{name}: overview");
            assert!(runbook.investigation.len() >= 3, "{name}: investigation");
            assert!(runbook.causes.len() >= 3, "{name}: causes");
            assert!(
                runbook.commands.iter().any(|c| !c.remediation),
                "{name}: no diagnostics"
            );
            assert!(
                runbook.commands.iter().any(|c| c.remediation),
                "{name}: no remediation"
            );
        }
    }

    #[test]
    fn shipped_runbooks_are_all_in_the_test_list() {
        // `include_str!` needs literal paths; this keeps the list and the directory in step.
        let listed: Vec<&str> = SHIPPED.iter().map(|(name, _)| *name).collect();
        let mut sorted = listed.clone();
        sorted.sort_unstable();
        assert_eq!(listed, sorted);
        assert_eq!(library().len(), SHIPPED.len());
    }

    #[test]
    fn shipped_remediation_is_never_destructive() {
        const FORBIDDEN: [&str; 12] = [
            "rm ",
            "reboot",
            "shutdown",
            "poweroff",
            "mkfs",
            "dd ",
            "truncate",
            "volume prune",
            "system prune",
            "docker rm",
            "kill -9",
            "drop ",
        ];
        for runbook in shipped() {
            for c in &runbook.commands {
                let lower = c.command.to_ascii_lowercase();
                for bad in FORBIDDEN {
                    assert!(
                        !lower.contains(bad),
                        "{}: `{}` contains `{bad}`",
                        runbook.alert_name,
                        c.command
                    );
                }
            }
        }
    }

    #[test]
    fn shipped_commands_fill_completely_with_all_placeholders() {
        let all = values(&[
            ("host", "nas.lan"),
            ("container", "frigate"),
            ("service", "postgresql"),
            ("system", "homeassistant"),
            ("mountpoint", "/var/lib/docker"),
        ]);
        for runbook in shipped() {
            for c in &runbook.commands {
                let filled = fill(&c.command, &all)
                    .unwrap_or_else(|| panic!("{}: `{}`", runbook.alert_name, c.command));
                assert_eq!(placeholders(&filled).count(), 0, "{filled}");
            }
        }
    }

    #[test]
    fn shipped_runbooks_resolve_their_aliases() {
        let library = library();
        for (alert, expected) in [
            ("ContainerDown", "ContainerDown"),
            ("ContainerDownFrigate", "ContainerDown"),
            ("ServiceDown", "ServiceDown"),
            ("ServiceUnreachable", "ServiceDown"),
            ("DiskSpaceLow", "DiskSpaceLow"),
            ("DiskSpaceCritical", "DiskSpaceLow"),
            ("DiskSpaceHigh", "DiskSpaceLow"),
            ("HighMemoryUsage", "HighMemoryUsage"),
            ("BackupStale", "BackupStale"),
            ("WireGuardVPNDown", "WireGuardVPNDown"),
            ("CertificateExpiring", "CertificateExpiring"),
            ("TLSCertExpiringSoon", "CertificateExpiring"),
            ("FrigateDatabaseError", "FrigateDatabaseError"),
            ("FrigateCameraOffline", "FrigateDatabaseError"),
            ("FrigateDetectorDown", "FrigateDatabaseError"),
            ("FrigateRecordingStopped", "FrigateDatabaseError"),
        ] {
            check_find(&library, alert, Some(expected));
        }
        check_find(&library, "PostgresReplicationLag", None);
    }

    #[test]
    fn exact_name_beats_alias() {
        let library = RunbookLibrary::new(vec![runbook("Foo", &[]), runbook("Bar", &["Foo"])]);
        check_find(&library, "Foo", Some("Foo"));
    }

    #[test]
    fn alias_beats_prefix() {
        let library = RunbookLibrary::new(vec![
            runbook("Disk", &[]),
            runbook("Storage", &["DiskFull"]),
        ]);
        check_find(&library, "DiskFull", Some("Storage"));
        check_find(&library, "DiskSlow", Some("Disk"));
    }

    #[test]
    fn exact_is_case_sensitive_alias_and_prefix_are_not() {
        let library = RunbookLibrary::new(vec![
            runbook("ServiceDown", &["ServiceUnreachable"]),
            runbook("servicedown", &[]),
        ]);
        check_find(&library, "servicedown", Some("servicedown"));
        check_find(&library, "ServiceDown", Some("ServiceDown"));
        check_find(&library, "SERVICEUNREACHABLE", Some("ServiceDown"));
        let library = RunbookLibrary::new(vec![runbook("ContainerDown", &[])]);
        check_find(&library, "CONTAINERDOWN", Some("ContainerDown"));
        check_find(&library, "containerDownFrigate", Some("ContainerDown"));
    }

    #[test]
    fn longest_prefix_wins_at_a_word_boundary() {
        let library = RunbookLibrary::new(vec![
            runbook("Container", &[]),
            runbook("ContainerDown", &[]),
            runbook("ServiceDown", &[]),
            runbook("DiskSpaceLow", &["DiskSpaceCritical"]),
        ]);
        check_find(&library, "ContainerDownFrigate", Some("ContainerDown"));
        check_find(&library, "ContainerDown_nas", Some("ContainerDown"));
        check_find(&library, "ContainerDown2", Some("ContainerDown"));
        check_find(&library, "ContainerRestarting", Some("Container"));
        check_find(&library, "DiskSpaceCriticalRoot", Some("DiskSpaceLow"));
        check_find(&library, "ServiceDownstreamLatency", None);
        // Only the runbook may be the shorter side.
        check_find(&library, "Disk", None);
        check_find(&RunbookLibrary::default(), "ContainerDown", None);
    }

    #[test]
    fn later_runbook_replaces_earlier_and_all_is_sorted() {
        let mut replacement = runbook("ServiceDown", &[]);
        replacement.title = "Operator's own".to_string();
        let library = RunbookLibrary::new(vec![
            runbook("ServiceDown", &[]),
            runbook("BackupStale", &[]),
            replacement,
        ]);
        assert_eq!(library.len(), 2);
        assert!(!library.is_empty());
        let names: Vec<&str> = library.all().map(|r| r.alert_name.as_str()).collect();
        assert_eq!(names, ["BackupStale", "ServiceDown"]);
        assert_eq!(library.find("ServiceDown").unwrap().title, "Operator's own");
        assert!(RunbookLibrary::default().is_empty());
    }

    #[test]
    fn parses_sections_and_commands() {
        let markdown = "---\nmatches: [\"B\", 'C']\n---\n# Service is down\n\n## Overview\n\n\
            First paragraph\nwraps.\n\nSecond.\n\n## Investigation\n\n1. Run `wg show`.\n2. Read\n   the journal.\n\n\
            ## Common causes\n\n- One\n- Two\n\n## Escalation\n\n```sh\nnot a command\n```\n\n## Commands\n\n\
            ### Diagnostics\n\n```sh\n# comment\n\nsystemctl status {service} \\\n  --no-pager\n```\n\n\
            ### Remediation\n\n```bash\nsystemctl restart {service}\n```\n";
        let runbook = parse("ServiceDown", markdown).unwrap();
        assert_eq!(runbook.aliases, ["B", "C"]);
        assert_eq!(runbook.title, "Service is down");
        assert_eq!(runbook.overview, "First paragraph wraps.\n\nSecond.");
        assert_eq!(
            runbook.investigation,
            ["Run `wg show`.", "Read the journal."]
        );
        assert_eq!(runbook.causes, ["One", "Two"]);
        assert_eq!(
            runbook.commands,
            [
                RunbookCommand {
                    command: "systemctl status {service} --no-pager".to_string(),
                    remediation: false,
                },
                RunbookCommand {
                    command: "systemctl restart {service}".to_string(),
                    remediation: true,
                },
            ]
        );
        assert_eq!(runbook.markdown, markdown);
    }

    #[test]
    fn front_matter_forms() {
        let aliases = |front: &str| parse("A", &doc(front, COMMANDS)).unwrap().aliases;
        assert_eq!(aliases("---\nmatches: B, C\n---\n"), ["B", "C"]);
        assert_eq!(
            aliases("---\nmatches:\n  - B\n  - \"C\"\n---\n"),
            ["B", "C"]
        );
        assert_eq!(aliases("---\n# note\nmatches: B, A, B\n---\n"), ["B"]);
        assert!(aliases("").is_empty());
        assert!(aliases("---\nmatches: []\n---\n").is_empty());
        assert_eq!(parse("A", &doc("", COMMANDS)).unwrap().title, "Title");
    }

    #[test]
    fn overview_keeps_lists() {
        let markdown = doc("", COMMANDS).replace(
            "What it is.\n",
            "Intro.\n\n- `A`: one.\n- `B`: two.\n\nOutro.\n",
        );
        assert_eq!(
            parse("A", &markdown).unwrap().overview,
            "Intro.\n\n- `A`: one.\n- `B`: two.\n\nOutro."
        );
    }

    #[test]
    fn errors_name_the_alert_and_the_problem() {
        let markdown = doc("", "### Diagnostics\n\nRun something.\n");
        let error = parse("ContainerDown", &markdown).unwrap_err();
        assert_eq!(
            error.to_string(),
            "runbook ContainerDown: commands section has no code block"
        );
        assert_eq!(error.alert(), "ContainerDown");
        assert_eq!(error.problem(), &RunbookProblem::NoCodeBlock);
    }

    #[test]
    fn rejects_malformed_runbooks() {
        let without = |section: &str| {
            doc("", COMMANDS).replace(&format!("## {section}"), "## Something else")
        };
        for (name, markdown, expected) in [
            (
                "Bad Name",
                doc("", COMMANDS),
                RunbookProblem::InvalidName("Bad Name".into()),
            ),
            (
                "A",
                doc("---\nmatches: B\n", COMMANDS),
                RunbookProblem::UnclosedFrontMatter,
            ),
            (
                "A",
                doc("---\nmatches B\n---\n", COMMANDS),
                RunbookProblem::FrontMatterSyntax {
                    line: 2,
                    text: "matches B".into(),
                },
            ),
            (
                "A",
                doc("---\ntags: x\n---\n", COMMANDS),
                RunbookProblem::UnknownKey("tags".into()),
            ),
            (
                "A",
                doc("---\nmatches: B C\n---\n", COMMANDS),
                RunbookProblem::InvalidAlias("B C".into()),
            ),
            (
                "A",
                without("Overview"),
                RunbookProblem::MissingSection("Overview"),
            ),
            (
                "A",
                without("Investigation"),
                RunbookProblem::MissingSection("Investigation"),
            ),
            (
                "A",
                without("Common causes"),
                RunbookProblem::MissingSection("Common causes"),
            ),
            (
                "A",
                without("Commands"),
                RunbookProblem::MissingSection("Commands"),
            ),
            (
                "A",
                doc("", COMMANDS).replace("1. Look.", "Prose only."),
                RunbookProblem::EmptySection("Investigation"),
            ),
            (
                "A",
                doc("", COMMANDS).replace("What it is.", ""),
                RunbookProblem::EmptySection("Overview"),
            ),
            (
                "A",
                format!("{}\n## Overview\n\nAgain.\n", doc("", COMMANDS)),
                RunbookProblem::DuplicateSection("Overview"),
            ),
            (
                "A",
                doc("", "```sh\ndf -h\n```\n"),
                RunbookProblem::CodeBlockOutsideSubsection,
            ),
            (
                "A",
                doc("", "### Rollback\n\n```sh\ndf -h\n```\n"),
                RunbookProblem::UnknownSubsection("Rollback".into()),
            ),
            (
                "A",
                doc("", "### Diagnostics\n\n```yaml\nkey: value\n```\n"),
                RunbookProblem::NotShell("yaml".into()),
            ),
            (
                "A",
                doc("", "### Diagnostics\n\n```sh\n# nothing yet\n```\n"),
                RunbookProblem::NoCommands,
            ),
            (
                "A",
                doc("", "### Diagnostics\n\n```sh\ndf -h \\\n```\n"),
                RunbookProblem::DanglingContinuation("df -h".into()),
            ),
            (
                "A",
                doc(
                    "",
                    "### Remediation\n\n```sh\ndocker restart {contianer}\n```\n",
                ),
                RunbookProblem::UnknownPlaceholder {
                    command: "docker restart {contianer}".into(),
                    placeholder: "contianer".into(),
                },
            ),
        ] {
            assert_eq!(problem(name, &markdown), expected, "{markdown}");
        }
    }

    #[test]
    fn fill_replaces_placeholders() {
        let v = values(&[
            ("container", "frigate"),
            ("service", "wg-quick@wg0"),
            ("mountpoint", "/"),
            ("host", "nas.lan:9100"),
        ]);
        for (command, expected) in [
            ("docker restart {container}", "docker restart frigate"),
            (
                "systemctl restart {service}",
                "systemctl restart wg-quick@wg0",
            ),
            ("df -h {mountpoint}", "df -h /"),
            ("ping -c 1 {host}", "ping -c 1 nas.lan:9100"),
            ("{container}{container}", "frigatefrigate"),
            ("free -m", "free -m"),
        ] {
            assert_eq!(fill(command, &v).as_deref(), Some(expected));
        }
    }

    #[test]
    fn fill_leaves_templates_and_shell_syntax_alone() {
        let v = values(&[("container", "frigate"), ("name", "x")]);
        for command in [
            "docker inspect --format '{{.State.Status}}' frigate",
            "docker inspect --format '{{range .Mounts}}{{println}}{{end}}' frigate",
            "echo ${name} {} {Name} {a b} {",
            "find / -exec ls {} +",
        ] {
            assert_eq!(fill(command, &v).as_deref(), Some(command), "{command}");
            assert_eq!(placeholders(command).count(), 0, "{command}");
        }
        assert_eq!(
            fill("docker inspect --format '{{.Name}}' {container}", &v).as_deref(),
            Some("docker inspect --format '{{.Name}}' frigate")
        );
    }

    #[test]
    fn fill_rejects_missing_placeholders() {
        let v = values(&[("container", "frigate")]);
        assert_eq!(fill("systemctl restart {service}", &v), None);
        assert_eq!(fill("docker restart {container} {host}", &v), None);
        assert_eq!(fill("docker restart {container}", &BTreeMap::new()), None);
    }

    #[test]
    fn fill_rejects_injection() {
        for value in [
            "frigate; rm -rf /",
            "$(id)",
            "`id`",
            "frigate && reboot",
            "a b",
            "a\tb",
            "a\nb",
            "frigate|sh",
            "x>y",
            "'quoted'",
            "\"quoted\"",
            "${IFS}",
            "*",
            "~",
            "a\\b",
            "--privileged",
            "-f",
            "../../etc/passwd",
            "",
            "frigaté",
        ] {
            let v = values(&[("container", value)]);
            assert_eq!(fill("docker restart {container}", &v), None, "{value:?}");
            assert!(!is_safe_value(value), "{value:?}");
        }
    }
}
