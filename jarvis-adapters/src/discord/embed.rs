//! Notices as Discord embeds, always within Discord's limits.

use jarvis_core::domain::{Notice, NoticeKind};
use serde::Serialize;

use crate::http::truncate_chars;

/// Discord's documented limits (characters, counted as Unicode scalar values).
pub mod limits {
    pub const TITLE: usize = 256;
    pub const DESCRIPTION: usize = 4096;
    pub const FIELDS: usize = 25;
    pub const FIELD_NAME: usize = 256;
    pub const FIELD_VALUE: usize = 1024;
    pub const FOOTER: usize = 2048;
    pub const AUTHOR: usize = 256;
    /// Sum over all embeds of one message.
    pub const TOTAL: usize = 6000;
    pub const EMBEDS: usize = 10;
    pub const CONTENT: usize = 2000;
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Embed {
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub color: u32,
    pub timestamp: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
    pub footer: Footer,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Field {
    pub name: String,
    pub value: String,
    pub inline: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Footer {
    pub text: String,
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

impl Embed {
    /// Characters that count toward the 6000 per-message total.
    pub fn size(&self) -> usize {
        chars(&self.title)
            + chars(&self.description)
            + chars(&self.footer.text)
            + self
                .fields
                .iter()
                .map(|f| chars(&f.name) + chars(&f.value))
                .sum::<usize>()
    }
}

/// The colour of each kind of notice.
pub fn color(kind: NoticeKind) -> u32 {
    match kind {
        NoticeKind::RemediationSuccess | NoticeKind::HostOnline => 0x2ECC71, // green
        NoticeKind::RemediationUnverified | NoticeKind::PredictiveWarning => 0xF1C40F, // amber
        NoticeKind::RemediationFailure => 0xE74C3C,                          // red
        NoticeKind::Escalation => 0x992D22,                                  // dark red
        NoticeKind::HostOffline | NoticeKind::Degraded => 0xE67E22,          // orange
        NoticeKind::ApprovalWaiting => 0x9B59B6,                             // purple
        NoticeKind::Maintenance => 0x95A5A6,                                 // grey
        NoticeKind::SelfRestart => 0x1ABC9C,                                 // teal
        NoticeKind::IncidentSummary | NoticeKind::DailyReport => 0x3498DB,   // blue
    }
}

fn non_empty(s: &str, max: usize) -> String {
    let trimmed = s.trim();
    if trimmed.is_empty() {
        "-".to_string()
    } else {
        truncate_chars(trimmed, max)
    }
}

/// One embed for a notice, within every per-embed limit and at most
/// [`limits::TOTAL`] characters in all. Fields that do not fit are dropped and
/// counted in a last field.
pub fn embed(notice: &Notice) -> Embed {
    let title = non_empty(&notice.title, limits::TITLE);
    let mut footer = format!("jarvis · {}", notice.kind.as_str());
    if let Some(id) = notice.incident {
        footer.push_str(&format!(" · incident {id}"));
    }
    let footer = truncate_chars(&footer, limits::FOOTER);
    // Room left for description and fields, keeping space for an overflow note.
    const OVERFLOW_RESERVE: usize = 64;
    let fixed = chars(&title) + chars(&footer);
    let mut budget = limits::TOTAL.saturating_sub(fixed + OVERFLOW_RESERVE);

    // The description may use what the fields do not need, but fields keep at
    // least half of the budget when they want it.
    let fields_wanted: usize = notice
        .fields
        .iter()
        .map(|(n, v)| chars(n).min(limits::FIELD_NAME) + chars(v).min(limits::FIELD_VALUE))
        .sum();
    let description_max = limits::DESCRIPTION.min(budget - fields_wanted.min(budget / 2));
    let description = truncate_chars(notice.body.trim(), description_max);
    budget = budget.saturating_sub(chars(&description));

    let mut fields = Vec::new();
    let mut dropped = 0usize;
    for (name, value) in &notice.fields {
        if fields.len() >= limits::FIELDS - 1 {
            dropped += 1;
            continue;
        }
        let name = non_empty(name, limits::FIELD_NAME);
        let value_max = limits::FIELD_VALUE.min(budget.saturating_sub(chars(&name)));
        if value_max < 16 {
            dropped += 1;
            continue;
        }
        let value = non_empty(value, value_max);
        budget = budget.saturating_sub(chars(&name) + chars(&value));
        let inline = chars(&value) <= 40;
        fields.push(Field {
            name,
            value,
            inline,
        });
    }
    if dropped > 0 {
        fields.push(Field {
            name: "…".into(),
            value: format!("{dropped} more field(s) omitted"),
            inline: false,
        });
    }
    Embed {
        title,
        description,
        color: color(notice.kind),
        timestamp: notice.at.to_rfc3339(),
        fields,
        footer: Footer { text: footer },
    }
}

/// Splits embeds into messages of at most [`limits::EMBEDS`] embeds and
/// [`limits::TOTAL`] characters, keeping their order.
pub fn pack(embeds: &[Embed]) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    let mut size = 0;
    for (i, e) in embeds.iter().enumerate() {
        let count = i - start;
        if count > 0 && (count >= limits::EMBEDS || size + e.size() > limits::TOTAL) {
            ranges.push(start..i);
            start = i;
            size = 0;
        }
        size += e.size();
    }
    if start < embeds.len() {
        ranges.push(start..embeds.len());
    }
    ranges
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    #[test]
    fn a_huge_notice_stays_within_every_limit() {
        let mut notice = Notice::new(NoticeKind::Escalation, "t".repeat(1000), Utc::now())
            .body("é".repeat(10_000));
        for i in 0..40 {
            notice = notice.field(format!("name {i} {}", "n".repeat(300)), "v".repeat(2000));
        }
        let e = embed(&notice);
        assert!(chars(&e.title) <= limits::TITLE);
        assert!(chars(&e.description) <= limits::DESCRIPTION);
        assert!(e.fields.len() <= limits::FIELDS);
        for f in &e.fields {
            assert!(chars(&f.name) <= limits::FIELD_NAME && !f.name.is_empty());
            assert!(chars(&f.value) <= limits::FIELD_VALUE && !f.value.is_empty());
        }
        assert!(e.size() <= limits::TOTAL, "{}", e.size());
        assert!(e.description.ends_with('…'));
    }

    #[test]
    fn packing_respects_count_and_total() {
        let big =
            embed(&Notice::new(NoticeKind::DailyReport, "x", Utc::now()).body("y".repeat(4000)));
        let small = embed(&Notice::new(NoticeKind::HostOnline, "up", Utc::now()));
        let embeds: Vec<Embed> = vec![big.clone(), big.clone(), small.clone()]
            .into_iter()
            .chain(std::iter::repeat_n(small, 12))
            .collect();
        let ranges = pack(&embeds);
        for r in &ranges {
            assert!(r.len() <= limits::EMBEDS);
            assert!(embeds[r.clone()].iter().map(Embed::size).sum::<usize>() <= limits::TOTAL);
        }
        assert_eq!(ranges.iter().map(|r| r.len()).sum::<usize>(), embeds.len());
    }
}
