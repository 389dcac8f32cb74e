//! Masks credentials in command text before it is shown anywhere: logs,
//! notifications, the audit log. The command that runs is never changed;
//! only its rendering is.
//!
//! Best effort by design: it recognises the common shapes (`--password=…`,
//! `--token …`, `PASSWORD=…` assignments, `-p…` glued to a MySQL client,
//! `Authorization: Bearer …`, headers and query parameters named like a
//! key, credentials in URLs). The remedy for a secret it misses is not to
//! put secrets in commands: hosts should read them from files.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::{Captures, Regex};

/// What a masked value is replaced with.
pub const MASK: &str = "***";

/// Names that mark a value as secret.
const SECRET: &str = r"(?:pass(?:word|wd)?|pwd|token|secret|api[-_]?key|apikey|auth[-_]?key|private[-_]?key|credentials?)";

static RULES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        // --password=x, --api-key x, -token=x (option names containing a secret word)
        format!(
            r#"(?i)(?P<keep>(?:^|\s)--?[\w-]*{SECRET}[\w-]*(?:=|\s+))(?P<secret>'[^']*'|"[^"]*"|[^\s'"]+)"#
        ),
        // PASSWORD=x, DB_TOKEN='x', url?token=x&…
        format!(
            r#"(?i)(?P<keep>(?:^|[\s;&?])[\w.-]*{SECRET}[\w.-]*=)(?P<secret>'[^']*'|"[^"]*"|[^\s&'";]+)"#
        ),
        // Authorization: Bearer x / Basic x
        r"(?i)(?P<keep>\b(?:bearer|basic)\s+)(?P<secret>[A-Za-z0-9._~+/=-]+)".to_string(),
        // X-Api-Key: x, X-N8N-API-KEY: x (headers named like a secret)
        format!(r#"(?i)(?P<keep>[\w-]*{SECRET}[\w-]*:\s*)(?P<secret>[^\s'"]+)"#),
        // scheme://user:password@host
        r"(?P<keep>[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]+:)(?P<secret>[^\s@/]+)(?P<at>@)".to_string(),
        // mysql -pSECRET (the password glued to -p)
        r"(?P<keep>\b(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)\b[^|;&]*?\s-p)(?P<secret>[^\s]+)"
            .to_string(),
    ]
    .iter()
    .map(|rule| Regex::new(rule).expect("redaction rules compile"))
    .collect()
});

/// `command` with the credentials it shows masked.
pub fn redact_command(command: &str) -> Cow<'_, str> {
    let mut text = Cow::Borrowed(command);
    for rule in RULES.iter() {
        if rule.is_match(&text) {
            let replaced = rule
                .replace_all(&text, |c: &Captures<'_>| {
                    format!(
                        "{}{MASK}{}",
                        &c["keep"],
                        c.name("at").map_or("", |m| m.as_str())
                    )
                })
                .into_owned();
            text = Cow::Owned(replaced);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_masked() {
        for (command, shown) in [
            (
                "mysql -u root -pS3cret! -e 'SHOW STATUS'",
                "mysql -u root -p*** -e 'SHOW STATUS'",
            ),
            (
                "curl -H 'Authorization: Bearer abc.def' http://ha:8123/api/",
                "curl -H 'Authorization: Bearer ***' http://ha:8123/api/",
            ),
            (
                "restic --password=hunter2 check",
                "restic --password=*** check",
            ),
            ("vault login --token s.abcdef", "vault login --token ***"),
            (
                "PGPASSWORD=hunter2 psql -h db1",
                "PGPASSWORD=*** psql -h db1",
            ),
            ("DB_TOKEN='a b' ./backup.sh", "DB_TOKEN=*** ./backup.sh"),
            (
                "curl http://admin:hunter2@nas:5000/status",
                "curl http://admin:***@nas:5000/status",
            ),
            (
                "curl -H 'X-N8N-API-KEY: n8nkey' http://n8n/api/v1/workflows",
                "curl -H 'X-N8N-API-KEY: ***' http://n8n/api/v1/workflows",
            ),
            (
                "curl 'http://api/x?api_key=k3y&limit=5'",
                "curl 'http://api/x?api_key=***&limit=5'",
            ),
        ] {
            assert_eq!(redact_command(command), shown, "{command}");
        }
    }

    #[test]
    fn ordinary_commands_are_untouched() {
        for command in [
            "systemctl restart nginx",
            "mkdir -p /var/lib/app",
            "ssh -p 2222 backup@nas uptime",
            "docker restart frigate",
            "journalctl -u nginx --since '10 min ago' | tail -n 50",
            "ps -p 1234 -o pid,cmd",
            "grep -r passed /var/log/app.log",
        ] {
            assert!(
                matches!(redact_command(command), Cow::Borrowed(_)),
                "{command} -> {}",
                redact_command(command)
            );
        }
    }
}
