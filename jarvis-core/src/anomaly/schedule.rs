//! When the daily report goes out: a fixed time of day at a fixed UTC offset.
//!
//! The offset is fixed (`+02:00`), not a named zone: core reads no time-zone
//! database, so an operator in a zone with daylight saving time moves the
//! offset twice a year or accepts the hour shifting by one. The default is
//! 08:00 UTC.

use chrono::{DateTime, Duration, FixedOffset, NaiveTime, TimeZone, Utc};

/// A time of day at a fixed offset from UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReportSchedule {
    time: NaiveTime,
    offset: FixedOffset,
}

impl Default for ReportSchedule {
    /// 08:00 UTC.
    fn default() -> Self {
        ReportSchedule {
            time: NaiveTime::from_hms_opt(8, 0, 0).expect("08:00 is a time of day"),
            offset: FixedOffset::east_opt(0).expect("UTC is an offset"),
        }
    }
}

impl ReportSchedule {
    /// `time` as `HH:MM`, `utc_offset` as `+HH:MM`, `-HH:MM` or `Z`.
    /// Each error names the bad value.
    pub fn parse(time: &str, utc_offset: &str) -> Result<Self, String> {
        let t = NaiveTime::parse_from_str(time.trim(), "%H:%M")
            .map_err(|_| format!("{time:?} is not a time of day such as 08:00"))?;
        let offset = parse_offset(utc_offset.trim()).ok_or_else(|| {
            format!("{utc_offset:?} is not a UTC offset such as +02:00, -05:00 or Z")
        })?;
        Ok(ReportSchedule { time: t, offset })
    }

    pub fn time(&self) -> NaiveTime {
        self.time
    }

    pub fn offset(&self) -> FixedOffset {
        self.offset
    }

    /// The first run strictly after `now`.
    pub fn next_after(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let local = now.with_timezone(&self.offset);
        let mut day = local.date_naive();
        loop {
            // A fixed offset has no gaps: every local time exists exactly once.
            let candidate = self
                .offset
                .from_local_datetime(&day.and_time(self.time))
                .single()
                .map(|d| d.with_timezone(&Utc));
            if let Some(at) = candidate
                && at > now
            {
                return at;
            }
            match day.succ_opt() {
                Some(next) => day = next,
                None => return now + Duration::days(1),
            }
        }
    }

    /// The run at or before `now` (the one whose report covers the day that just ended).
    pub fn last_at_or_before(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.next_after(now) - Duration::days(1)
    }
}

fn parse_offset(s: &str) -> Option<FixedOffset> {
    if s.eq_ignore_ascii_case("z") || s.eq_ignore_ascii_case("utc") {
        return FixedOffset::east_opt(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: i32 = h.parse().ok()?;
    let m: i32 = m.parse().ok()?;
    if h > 14 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn check(time: &str, offset: &str, now: &str, expected: &str) {
        let s = ReportSchedule::parse(time, offset).unwrap();
        assert_eq!(
            s.next_after(at(now)),
            at(expected),
            "{time} {offset} at {now}"
        );
    }

    #[test]
    fn default_is_eight_utc() {
        let s = ReportSchedule::default();
        assert_eq!(s, ReportSchedule::parse("08:00", "Z").unwrap());
        assert_eq!(
            s.next_after(at("2026-03-01T07:59:59Z")),
            at("2026-03-01T08:00:00Z")
        );
    }

    #[test]
    fn next_run_is_strictly_after_now() {
        check(
            "08:00",
            "+00:00",
            "2026-03-01T08:00:00Z",
            "2026-03-02T08:00:00Z",
        );
        check(
            "08:00",
            "+00:00",
            "2026-03-01T09:30:00Z",
            "2026-03-02T08:00:00Z",
        );
        check(
            "08:00",
            "+00:00",
            "2026-12-31T23:00:00Z",
            "2027-01-01T08:00:00Z",
        );
    }

    #[test]
    fn the_offset_moves_the_run_in_utc() {
        // 08:00 at +02:00 is 06:00 UTC.
        check(
            "08:00",
            "+02:00",
            "2026-03-01T05:00:00Z",
            "2026-03-01T06:00:00Z",
        );
        check(
            "08:00",
            "+02:00",
            "2026-03-01T07:00:00Z",
            "2026-03-02T06:00:00Z",
        );
        // 08:00 at -05:00 is 13:00 UTC; at 23:00 UTC it is already tomorrow's 08:00 local.
        check(
            "08:00",
            "-05:00",
            "2026-03-01T12:00:00Z",
            "2026-03-01T13:00:00Z",
        );
        check(
            "07:30",
            "-05:00",
            "2026-03-01T23:00:00Z",
            "2026-03-02T12:30:00Z",
        );
        // Local date differs from the UTC date.
        check(
            "01:00",
            "+09:00",
            "2026-03-01T15:00:00Z",
            "2026-03-01T16:00:00Z",
        );
    }

    #[test]
    fn last_run_is_a_day_before_the_next() {
        let s = ReportSchedule::default();
        assert_eq!(
            s.last_at_or_before(at("2026-03-01T08:00:00Z")),
            at("2026-03-01T08:00:00Z")
        );
        assert_eq!(
            s.last_at_or_before(at("2026-03-01T07:00:00Z")),
            at("2026-02-28T08:00:00Z")
        );
    }

    #[test]
    fn bad_values_are_named() {
        assert!(
            ReportSchedule::parse("8am", "Z")
                .unwrap_err()
                .contains("\"8am\"")
        );
        assert!(ReportSchedule::parse("25:00", "Z").is_err());
        for bad in ["02:00", "+2", "+15:00", "+02:60", "CET"] {
            let err = ReportSchedule::parse("08:00", bad).unwrap_err();
            assert!(err.contains(bad), "{err}");
        }
        assert_eq!(
            ReportSchedule::parse("08:00", "-03:30").unwrap().offset(),
            FixedOffset::west_opt(3 * 3600 + 1800).unwrap()
        );
    }
}
