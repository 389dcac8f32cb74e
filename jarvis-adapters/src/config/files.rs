//! The operator's files next to the configuration: runbooks and seed patterns.

use std::path::Path;

use chrono::{DateTime, Utc};
use jarvis_core::domain::{Pattern, Runbook};

/// Parses every `*.md` file of `dir` (the file name is the alert name).
/// Collects every problem, each naming its file. A missing directory is no runbooks.
pub fn load_runbooks(dir: &Path) -> Result<Vec<Runbook>, Vec<String>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(vec![format!(
                "runbooks.dir: cannot read {}: {e}",
                dir.display()
            )]);
        }
    };
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    paths.sort();
    let mut runbooks = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
            problems.push(format!("{}: file name is not UTF-8", path.display()));
            continue;
        };
        if name.eq_ignore_ascii_case("readme") {
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(text) => match jarvis_core::runbook::parse(name, &text) {
                Ok(rb) => runbooks.push(rb),
                Err(e) => problems.push(format!("{}: {e}", path.display())),
            },
            Err(e) => problems.push(format!("{}: cannot read: {e}", path.display())),
        }
    }
    if problems.is_empty() {
        Ok(runbooks)
    } else {
        Err(problems)
    }
}

/// Reads a TOML seed file into patterns with source `seeded`.
pub fn load_seeds(file: &Path, now: DateTime<Utc>) -> Result<Vec<Pattern>, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("seeds.file: cannot read {}: {e}", file.display()))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        format!(
            "seeds.file: {}: not valid TOML: {}",
            file.display(),
            e.to_string().trim()
        )
    })?;
    let json =
        serde_json::to_value(table).map_err(|e| format!("seeds.file: {}: {e}", file.display()))?;
    jarvis_core::learning::seeds_from_document(json, now)
        .map_err(|e| format!("seeds.file: {}: {e}", file.display()))
}
