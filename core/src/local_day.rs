//! "Today": the local day that contains an instant, in a named time zone, as UTC bounds.
//!
//! Storage is UTC (unix ms); a counter's day is not. A gate in Berlin starts its day at local
//! midnight, which is 23:00 or 22:00 UTC, and two days a year are 23 or 25 hours long. Every
//! "today" (the status screen, the gate's totals, the offline redemption cap) asks this module,
//! so they agree. Pure: the zone is an argument, the rules are chrono-tz's compiled-in IANA
//! database.

use crate::time::Timestamp;
use chrono::{Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone as _, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An IANA time zone (`Europe/Berlin`, `UTC`), known to the compiled-in database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeZone(Tz);

impl TimeZone {
    pub const UTC: Self = Self(Tz::UTC);

    /// The IANA name, as given when it was parsed (`US/Pacific` stays `US/Pacific`).
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    pub fn tz(self) -> Tz {
        self.0
    }
}

impl Default for TimeZone {
    fn default() -> Self {
        Self::UTC
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone {0:?}: give an IANA name such as \"Europe/Berlin\" or \"UTC\"")]
pub struct UnknownTimeZone(pub String);

impl FromStr for TimeZone {
    type Err = UnknownTimeZone;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Tz::from_str(s)
            .map(Self)
            .map_err(|_| UnknownTimeZone(s.chars().take(64).collect()))
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for TimeZone {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for TimeZone {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// In the OpenAPI document a zone is its IANA name.
impl utoipa::PartialSchema for TimeZone {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("An IANA time zone name"))
            .examples([serde_json::json!("Europe/Berlin")])
            .into()
    }
}

impl utoipa::ToSchema for TimeZone {}

/// One local day: the instants `start <= t < end` whose local date, in `time_zone`, is the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocalDay {
    pub start: Timestamp,
    pub end: Timestamp,
    pub time_zone: TimeZone,
}

impl LocalDay {
    pub fn contains(&self, at: Timestamp) -> bool {
        self.start <= at && at < self.end
    }
}

/// The local day of `zone` that contains `at`. Usually 24 hours; 23 or 25 on the days clocks
/// change. An instant chrono cannot represent (hundreds of thousands of years away) gets the
/// UTC day, so that this never fails.
pub fn local_day(at: Timestamp, zone: TimeZone) -> LocalDay {
    const DAY_MS: i64 = 86_400_000;
    let utc_day = || {
        let ms = at.unix_ms();
        let start = ms.saturating_sub(ms.rem_euclid(DAY_MS));
        LocalDay {
            start: Timestamp::from_unix_ms(start),
            end: Timestamp::from_unix_ms(start.saturating_add(DAY_MS)),
            time_zone: zone,
        }
    };
    let Some(utc) = at.to_datetime() else {
        return utc_day();
    };
    let date = utc.with_timezone(&zone.0).date_naive();
    match (
        start_of(date, zone.0),
        date.succ_opt().and_then(|d| start_of(d, zone.0)),
    ) {
        (Some(start), Some(end)) if start <= at && at < end => LocalDay {
            start,
            end,
            time_zone: zone,
        },
        _ => utc_day(),
    }
}

/// The first instant whose local date is `date`: local midnight, or, where the clocks jump over
/// midnight (a gap), the first local time after it that exists; where midnight happens twice,
/// the earlier.
fn start_of(date: NaiveDate, tz: Tz) -> Option<Timestamp> {
    let midnight = NaiveDateTime::new(date, NaiveTime::MIN);
    // Gaps last an hour or two; Samoa skipped a whole day (2011-12-30), so look up to 48 h on.
    // Every zone's offset today is a multiple of 15 minutes, but older ones are not: step by minutes.
    for minutes in 0..=48 * 60 {
        let local = midnight.checked_add_signed(Duration::minutes(minutes))?;
        match tz.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                return Some(Timestamp::from_unix_ms(
                    t.with_timezone(&Utc).timestamp_millis(),
                ));
            }
            LocalResult::None => continue,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    fn zone(name: &str) -> TimeZone {
        name.parse().unwrap()
    }

    fn hours(day: &LocalDay) -> i64 {
        (day.end.unix_ms() - day.start.unix_ms()) / 3_600_000
    }

    #[test]
    fn a_plain_day_starts_at_local_midnight() {
        let berlin = zone("Europe/Berlin");
        // Winter: UTC+1.
        let day = local_day(at("2025-01-15T12:00:00Z"), berlin);
        assert_eq!(day.start, at("2025-01-14T23:00:00Z"));
        assert_eq!(day.end, at("2025-01-15T23:00:00Z"));
        assert_eq!(day.time_zone, berlin);
        // 23:30 UTC is already tomorrow in Berlin.
        let day = local_day(at("2025-01-15T23:30:00Z"), berlin);
        assert_eq!(day.start, at("2025-01-15T23:00:00Z"));
        // Summer: UTC+2.
        let day = local_day(at("2025-07-01T00:00:00Z"), berlin);
        assert_eq!(day.start, at("2025-06-30T22:00:00Z"));
        assert_eq!(hours(&day), 24);
    }

    #[test]
    fn the_days_clocks_change_are_23_and_25_hours_long() {
        let berlin = zone("Europe/Berlin");
        // Last Sunday of March 2025: 02:00 CET becomes 03:00 CEST.
        let spring = local_day(at("2025-03-30T12:00:00Z"), berlin);
        assert_eq!(spring.start, at("2025-03-29T23:00:00Z"));
        assert_eq!(spring.end, at("2025-03-30T22:00:00Z"));
        assert_eq!(hours(&spring), 23);
        // Last Sunday of October 2025: 03:00 CEST becomes 02:00 CET.
        let autumn = local_day(at("2025-10-26T12:00:00Z"), berlin);
        assert_eq!(autumn.start, at("2025-10-25T22:00:00Z"));
        assert_eq!(autumn.end, at("2025-10-26T23:00:00Z"));
        assert_eq!(hours(&autumn), 25);
        // Both hours of the repeated 02:xx belong to that one day.
        for t in ["2025-10-26T00:30:00Z", "2025-10-26T01:30:00Z"] {
            assert_eq!(local_day(at(t), berlin), autumn, "{t}");
        }
        // The day's bounds belong to it and to the next, never to both.
        assert!(autumn.contains(autumn.start));
        assert!(!autumn.contains(autumn.end));
        assert_eq!(local_day(autumn.end, berlin).start, autumn.end);
        assert_eq!(local_day(autumn.end.minus_ms(1), berlin), autumn);
    }

    #[test]
    fn a_zone_without_daylight_saving_has_24_hour_days_all_year() {
        let tokyo = zone("Asia/Tokyo");
        for t in ["2025-03-30T12:00:00Z", "2025-10-26T12:00:00Z"] {
            let day = local_day(at(t), tokyo);
            assert_eq!(hours(&day), 24, "{t}");
        }
        let day = local_day(at("2025-03-30T12:00:00Z"), tokyo);
        assert_eq!(day.start, at("2025-03-29T15:00:00Z"));
        let utc = local_day(at("2025-03-30T12:00:00Z"), TimeZone::UTC);
        assert_eq!(utc.start, at("2025-03-30T00:00:00Z"));
        assert_eq!(utc.end, at("2025-03-31T00:00:00Z"));
        // Quarter-hour offsets: Nepal is UTC+5:45.
        let day = local_day(at("2025-03-30T12:00:00Z"), zone("Asia/Kathmandu"));
        assert_eq!(day.start, at("2025-03-29T18:15:00Z"));
    }

    #[test]
    fn where_midnight_does_not_exist_the_day_starts_when_the_clocks_jump() {
        // Santiago, 2024-09-08: 00:00 -04 became 01:00 -03; the day began at 04:00 UTC.
        let santiago = zone("America/Santiago");
        let day = local_day(at("2024-09-08T12:00:00Z"), santiago);
        assert_eq!(day.start, at("2024-09-08T04:00:00Z"));
        assert_eq!(hours(&day), 23);
        // Samoa skipped 2011-12-30: the 29th (UTC-10) ended when the 31st (UTC+14) began.
        let apia = zone("Pacific/Apia");
        let day = local_day(at("2011-12-30T05:00:00Z"), apia);
        assert_eq!(day.start, at("2011-12-29T10:00:00Z"));
        assert_eq!(day.end, at("2011-12-30T10:00:00Z"));
    }

    #[test]
    fn zones_are_parsed_by_their_iana_names_and_unknown_ones_say_so() {
        assert_eq!(zone("Europe/Berlin").name(), "Europe/Berlin");
        assert_eq!(zone("UTC"), TimeZone::UTC);
        for bad in ["Mars/Olympus_Mons", "", "europe/berlin", "+01:00"] {
            let err = bad.parse::<TimeZone>().unwrap_err();
            assert!(err.to_string().contains("IANA"), "{bad}: {err}");
        }
        let json = serde_json::to_string(&zone("Asia/Tokyo")).unwrap();
        assert_eq!(json, "\"Asia/Tokyo\"");
        assert!(serde_json::from_str::<TimeZone>("\"Nowhere\"").is_err());
    }

    #[test]
    fn instants_far_away_still_get_a_day() {
        for ms in [i64::MIN, i64::MAX, 0] {
            let day = local_day(Timestamp::from_unix_ms(ms), zone("Europe/Berlin"));
            assert!(day.start <= day.end);
        }
    }
}
