//! The time grammar of `time:`, `after:`, `before:` and `since:`: dates, instants, prefixes and durations.

use super::{MICROS_PER_DAY, MICROS_PER_SECOND};
use chrono::NaiveDate;

/// The parts of a written time, as far as they were written.
#[derive(Debug, Default)]
struct TimeParts {
    year: i32,
    month: Option<u32>,
    day: Option<u32>,
    hour: Option<u32>,
    minute: Option<u32>,
    second: Option<u32>,
    /// Microseconds of the fraction (truncated) and the number of digits written.
    fraction: Option<(i64, usize)>,
    /// Offset from UTC in seconds, when written.
    offset: Option<i64>,
}

/// A cursor over the characters of a time value.
struct TimeCursor {
    chars: Vec<char>,
    pos: usize,
}

impl TimeCursor {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn eat(&mut self, accepted: &[char]) -> bool {
        match self.peek() {
            Some(c) if accepted.contains(&c) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    fn digits(&mut self, count: usize, what: &str) -> Result<u32, String> {
        let mut value = 0u32;
        for _ in 0..count {
            // `to_digit(10)` accepts the ASCII digits only.
            match self.peek().and_then(|c| c.to_digit(10)) {
                Some(digit) => {
                    value = value * 10 + digit;
                    self.pos += 1;
                }
                _ => return Err(format!("expected {count} digits for the {what}")),
            }
        }
        Ok(value)
    }
}

fn parse_time_parts(text: &str) -> Result<TimeParts, String> {
    let mut cursor = TimeCursor {
        chars: text.chars().collect(),
        pos: 0,
    };
    let mut parts = TimeParts {
        year: cursor.digits(4, "year")? as i32,
        ..TimeParts::default()
    };
    if cursor.eat(&['-']) {
        let month = cursor.digits(2, "month")?;
        if !(1..=12).contains(&month) {
            return Err("the month must be 01-12".to_owned());
        }
        parts.month = Some(month);
        if cursor.eat(&['-']) {
            let day = cursor.digits(2, "day")?;
            if NaiveDate::from_ymd_opt(parts.year, month, day).is_none() {
                return Err(format!(
                    "day {day:02} does not exist in {:04}-{month:02}",
                    parts.year
                ));
            }
            parts.day = Some(day);
            if cursor.eat(&['T', 't', ' ']) {
                let hour = cursor.digits(2, "hour")?;
                if hour > 23 {
                    return Err("the hour must be 00-23".to_owned());
                }
                parts.hour = Some(hour);
                if cursor.eat(&[':']) {
                    let minute = cursor.digits(2, "minute")?;
                    if minute > 59 {
                        return Err("the minute must be 00-59".to_owned());
                    }
                    parts.minute = Some(minute);
                    if cursor.eat(&[':']) {
                        let second = cursor.digits(2, "second")?;
                        if second > 59 {
                            return Err("the second must be 00-59".to_owned());
                        }
                        parts.second = Some(second);
                        if cursor.eat(&['.']) {
                            let mut micros = 0i64;
                            let mut count = 0usize;
                            while let Some(digit) = cursor.peek().and_then(|c| c.to_digit(10)) {
                                if count < 6 {
                                    micros = micros * 10 + i64::from(digit);
                                }
                                count += 1;
                                cursor.pos += 1;
                            }
                            if count == 0 {
                                return Err("expected digits after the `.`".to_owned());
                            }
                            for _ in count..6 {
                                micros *= 10;
                            }
                            parts.fraction = Some((micros, count));
                        }
                    }
                }
            }
        }
    }
    if cursor.eat(&['Z', 'z']) {
        parts.offset = Some(0);
    } else if let Some(sign @ ('+' | '-')) = cursor.peek() {
        cursor.pos += 1;
        let hours = cursor.digits(2, "offset hours")?;
        if !cursor.eat(&[':']) {
            return Err("the offset must be written ±hh:mm".to_owned());
        }
        let minutes = cursor.digits(2, "offset minutes")?;
        if hours > 23 || minutes > 59 {
            return Err("the offset must be -23:59 to +23:59".to_owned());
        }
        let seconds = i64::from(hours * 3600 + minutes * 60);
        parts.offset = Some(if sign == '-' { -seconds } else { seconds });
    }
    if let Some(c) = cursor.peek() {
        return Err(format!("unexpected `{c}`"));
    }
    if parts.offset.is_some() && parts.second.is_none() {
        return Err("an offset needs a full time hh:mm:ss before it".to_owned());
    }
    Ok(parts)
}

/// Microseconds since the epoch of the start of what `parts` names, before applying the offset.
fn start_micros(parts: &TimeParts) -> Result<i64, String> {
    let date =
        NaiveDate::from_ymd_opt(parts.year, parts.month.unwrap_or(1), parts.day.unwrap_or(1))
            .ok_or_else(|| "no such date".to_owned())?;
    let datetime = date
        .and_hms_opt(
            parts.hour.unwrap_or(0),
            parts.minute.unwrap_or(0),
            parts.second.unwrap_or(0),
        )
        .ok_or_else(|| "no such time".to_owned())?;
    let fraction = parts.fraction.map_or(0, |(micros, _)| micros);
    Ok(datetime.and_utc().timestamp_micros() + fraction)
}

/// Reads the value of `after:` / `before:`: a date (its 00:00 UTC) or a full instant (also `--period`).
pub(crate) fn time_point(text: &str) -> Result<i64, String> {
    let parts = parse_time_parts(text)?;
    if parts.day.is_none() || (parts.hour.is_some() && parts.second.is_none()) {
        return Err("incomplete date or time".to_owned());
    }
    let micros = start_micros(&parts)?;
    Ok(micros - parts.offset.unwrap_or(0) * MICROS_PER_SECOND)
}

/// Reads the value of `time:` into the `[start, end)` range it names (`prefix` when written with `*`).
pub(super) fn time_field_range(text: &str, prefix: bool) -> Result<(i64, i64), String> {
    let parts = parse_time_parts(text)?;
    if !prefix {
        return match (parts.day, parts.hour, parts.second) {
            (Some(_), None, _) => {
                let start = start_micros(&parts)?;
                Ok((start, start + MICROS_PER_DAY))
            }
            (Some(_), Some(_), Some(_)) => {
                let start = start_micros(&parts)? - parts.offset.unwrap_or(0) * MICROS_PER_SECOND;
                Ok((start, start + 1))
            }
            _ => Err(format!(
                "not a full date or time (for the whole period write time:{text}*)"
            )),
        };
    }
    if parts.offset.is_some() {
        return Err("a prefix form is always UTC and takes no offset".to_owned());
    }
    let start = start_micros(&parts)?;
    let end = if let Some((_, digits)) = parts.fraction {
        if digits > 6 {
            return Err("a prefix has at most 6 fraction digits".to_owned());
        }
        start + 10i64.pow(6 - digits as u32)
    } else if parts.second.is_some() {
        start + MICROS_PER_SECOND
    } else if parts.minute.is_some() {
        start + 60 * MICROS_PER_SECOND
    } else if parts.hour.is_some() {
        start + 3600 * MICROS_PER_SECOND
    } else if parts.day.is_some() {
        start + MICROS_PER_DAY
    } else {
        let (year, month) = match parts.month {
            Some(12) => (parts.year + 1, 1),
            Some(month) => (parts.year, month + 1),
            None => (parts.year + 1, 1),
        };
        start_micros(&TimeParts {
            year,
            month: Some(month),
            ..TimeParts::default()
        })?
    };
    Ok((start, end))
}

/// Reads the value of `since:` (`15m`, `24h`, `7d`, …) into microseconds (also `--silence`).
pub(crate) fn duration_micros(text: &str) -> Result<i64, String> {
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    let unit: String = text.chars().skip(digits.len()).collect();
    if digits.is_empty() {
        return Err("it must start with a number".to_owned());
    }
    let unit_seconds: i64 = match unit.as_str() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        "" => return Err("the unit is missing".to_owned()),
        "S" | "M" | "H" | "D" | "W" => return Err("units are lowercase".to_owned()),
        _ => return Err(format!("`{unit}` is not a unit")),
    };
    digits
        .parse::<i64>()
        .ok()
        .and_then(|count| count.checked_mul(unit_seconds))
        .and_then(|seconds| seconds.checked_mul(MICROS_PER_SECOND))
        .ok_or_else(|| "the duration is too large".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::Query;
    use crate::query::test_support::*;

    #[test]
    fn time_field_takes_days_instants_and_prefixes() {
        let day = micros(2024, 5, 1, 0, 0, 0);
        let next_day = micros(2024, 5, 2, 0, 0, 0);
        assert_eq!(ok("time:2024-05-01"), range(day, next_day));
        assert_eq!(ok("time:2024-05-01*"), range(day, next_day));
        let t = micros(2024, 5, 1, 10, 30, 15);
        assert_eq!(ok("time:2024-05-01T10:30:15Z"), range(t, t + 1));
        assert_eq!(ok("time:2024-05-01t10:30:15z"), range(t, t + 1));
        assert_eq!(ok("time:2024-05-01T10:30:15"), range(t, t + 1));
        assert_eq!(ok("time:\"2024-05-01 10:30:15\""), range(t, t + 1));
        assert_eq!(ok("time:2024-05-01T12:30:15+02:00"), range(t, t + 1));
        assert_eq!(
            ok("time:2024-05-01T10:30:15.25Z"),
            range(t + 250_000, t + 250_001)
        );
        // Digits past the microsecond are truncated.
        assert_eq!(
            ok("time:2024-05-01T10:30:15.123456789Z"),
            range(t + 123_456, t + 123_457)
        );
        assert_eq!(
            ok("time:2024*"),
            range(micros(2024, 1, 1, 0, 0, 0), micros(2025, 1, 1, 0, 0, 0))
        );
        assert_eq!(ok("time:2024-05*"), range(day, micros(2024, 6, 1, 0, 0, 0)));
        assert_eq!(
            ok("time:2024-12*"),
            range(micros(2024, 12, 1, 0, 0, 0), micros(2025, 1, 1, 0, 0, 0))
        );
        let hour = micros(2024, 5, 1, 10, 0, 0);
        assert_eq!(ok("time:2024-05-01T10*"), range(hour, hour + 3_600_000_000));
        assert_eq!(
            ok("time:2024-05-01T10:30*"),
            range(t - 15_000_000, t + 45_000_000)
        );
        assert_eq!(ok("time:2024-05-01T10:30:15*"), range(t, t + 1_000_000));
        assert_eq!(
            ok("time:2024-05-01T10:30:15.1*"),
            range(t + 100_000, t + 200_000)
        );
        assert_eq!(
            ok("time:2024-05-01T10:30:15.123456*"),
            range(t + 123_456, t + 123_457)
        );
        assert_eq!(
            ok("time:*"),
            Query::TimeRange {
                start: None,
                end: None
            }
        );
        assert_eq!(
            ok("time:2024-02-29"),
            range(micros(2024, 2, 29, 0, 0, 0), micros(2024, 3, 1, 0, 0, 0))
        );
    }

    #[test]
    fn after_and_before_take_dates_and_rfc3339_times() {
        let day = micros(2024, 5, 1, 0, 0, 0);
        assert_eq!(
            ok("after:2024-05-01"),
            Query::TimeRange {
                start: Some(day),
                end: None
            }
        );
        assert_eq!(
            ok("before:2024-05-01"),
            Query::TimeRange {
                start: None,
                end: Some(day)
            }
        );
        let t = micros(2024, 5, 1, 10, 0, 0);
        assert_eq!(
            ok("after:2024-05-01T10:00:00"),
            Query::TimeRange {
                start: Some(t),
                end: None
            }
        );
        assert_eq!(
            ok("after:2024-05-01T10:00:00Z"),
            ok("after:2024-05-01T10:00:00")
        );
        assert_eq!(
            ok("after:2024-05-01T05:30:00.5-04:30"),
            Query::TimeRange {
                start: Some(t + 500_000),
                end: None
            }
        );
        assert_eq!(
            ok("after:2024-05-01 before:2024-05-02"),
            Query::And(vec![
                Query::TimeRange {
                    start: Some(day),
                    end: None
                },
                Query::TimeRange {
                    start: None,
                    end: Some(day + MICROS_PER_DAY)
                },
            ])
        );
    }

    #[test]
    fn since_takes_every_unit() {
        let s = MICROS_PER_SECOND;
        assert_eq!(ok("since:90s"), Query::Since(90 * s));
        assert_eq!(ok("since:15m"), Query::Since(15 * 60 * s));
        assert_eq!(ok("since:24h"), Query::Since(24 * 3600 * s));
        assert_eq!(ok("since:7d"), Query::Since(7 * 86_400 * s));
        assert_eq!(ok("since:2w"), Query::Since(14 * 86_400 * s));
        assert_eq!(ok("since:0s"), Query::Since(0));
    }
}
