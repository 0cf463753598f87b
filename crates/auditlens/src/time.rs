//! Timestamps of audit events: a strict RFC 3339 parser that yields unix MICROseconds UTC, and the matching
//! formatter. The rules are written down in `docs/sources.md` ("Time").
//!
//! Parsing is done by hand on bytes (no locale, no heuristics) so that exactly one documented grammar is
//! accepted: `YYYY-MM-DD`, `T` or `t`, `hh:mm:ss`, an optional fraction of 1 to 9 digits (truncated, not
//! rounded, to microseconds), then `Z`, `z`, `+hh:mm`, `-hh:mm` or nothing (nothing means UTC).

/// Microseconds in one second.
const MICROS_PER_SEC: i64 = 1_000_000;
/// Seconds in one day.
const SECS_PER_DAY: i64 = 86_400;

/// Parses an RFC 3339 date-time into unix microseconds UTC.
///
/// Accepted: `YYYY-MM-DD` + (`T`|`t`) + `hh:mm:ss` + optional `.` and 1 to 9 digits + optional zone (`Z`, `z`,
/// `+hh:mm` or `-hh:mm`); a time without a zone is UTC. The fraction is truncated to microseconds. Anything else
/// is `None`: surrounding spaces, a space separator, missing seconds, a leap second `:60`, an impossible date
/// (`2023-02-29`), hour 24, an offset beyond `23:59`, more than 9 fraction digits, trailing text.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    parse_date_time(s, false)
}

/// Like [`parse_rfc3339`], also accepting one space instead of the `T` between date and time
/// (`2022-11-29 00:09:04.38`), as RFC 3339 section 5.6 allows "for the sake of readability" and as SIEM exports
/// (Panther, Splunk, BigQuery) write times. Still no surrounding spaces, and a time without a zone is UTC.
pub fn parse_rfc3339_or_space(s: &str) -> Option<i64> {
    parse_date_time(s, true)
}

fn parse_date_time(s: &str, space: bool) -> Option<i64> {
    let b = s.as_bytes();
    // Fixed part: "YYYY-MM-DDThh:mm:ss" is 19 bytes.
    if b.len() < 19 {
        return None;
    }
    let year = digits(b, 0, 4)?;
    expect(b, 4, b'-')?;
    let month = digits(b, 5, 2)?;
    expect(b, 7, b'-')?;
    let day = digits(b, 8, 2)?;
    match b.get(10) {
        Some(b'T' | b't') => {}
        Some(b' ') if space => {}
        _ => return None,
    }
    let hour = digits(b, 11, 2)?;
    expect(b, 13, b':')?;
    let minute = digits(b, 14, 2)?;
    expect(b, 16, b':')?;
    let second = digits(b, 17, 2)?;

    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }

    let mut pos = 19;
    let mut micros: i64 = 0;
    if b.get(pos) == Some(&b'.') {
        pos += 1;
        let start = pos;
        while let Some(d) = b.get(pos).filter(|c| c.is_ascii_digit()) {
            let n = pos - start;
            if n >= 9 {
                return None;
            }
            if n < 6 {
                micros = micros * 10 + i64::from(d - b'0');
            }
            pos += 1;
        }
        let n = pos - start;
        if n == 0 {
            return None;
        }
        for _ in n..6 {
            micros *= 10;
        }
    }

    let offset_secs: i64 = match b.get(pos) {
        None => 0,
        Some(b'Z' | b'z') => {
            pos += 1;
            0
        }
        Some(&sign @ (b'+' | b'-')) => {
            let oh = digits(b, pos + 1, 2)?;
            expect(b, pos + 3, b':')?;
            let om = digits(b, pos + 4, 2)?;
            if oh > 23 || om > 59 {
                return None;
            }
            pos += 6;
            let secs = oh * 3600 + om * 60;
            if sign == b'-' { -secs } else { secs }
        }
        Some(_) => return None,
    };
    if pos != b.len() {
        return None;
    }

    let days = days_from_civil(year, month, day);
    let secs = days * SECS_PER_DAY + hour * 3600 + minute * 60 + second - offset_secs;
    Some(secs * MICROS_PER_SEC + micros)
}

/// Formats unix microseconds as UTC RFC 3339: `2024-05-01T12:00:00Z`, `2024-05-01T12:00:00.123Z` or
/// `2024-05-01T12:00:00.123456Z` (no fraction when it is zero, 3 digits when it is whole milliseconds, else 6).
///
/// Every `i64` is accepted. Years outside 0000..=9999 are written in the ISO 8601 expanded form (`+10000-...`,
/// `-0001-...`), which [`parse_rfc3339`] does not read back.
pub fn format_utc(micros: i64) -> String {
    let secs = micros.div_euclid(MICROS_PER_SEC);
    let frac = micros.rem_euclid(MICROS_PER_SEC);
    let days = secs.div_euclid(SECS_PER_DAY);
    let sod = secs.rem_euclid(SECS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let year = if (0..=9999).contains(&year) {
        format!("{year:04}")
    } else if year < 0 {
        format!("-{:04}", year.unsigned_abs())
    } else {
        format!("+{year}")
    };
    let fraction = if frac == 0 {
        String::new()
    } else if frac % 1000 == 0 {
        format!(".{:03}", frac / 1000)
    } else {
        format!(".{frac:06}")
    };
    format!(
        "{year}-{month:02}-{day:02}T{:02}:{:02}:{:02}{fraction}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// Reads `n` ASCII digits at `at` as a number; `None` when any byte is missing or not a digit.
fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let slice = b.get(at..at.checked_add(n)?)?;
    slice.iter().try_fold(0i64, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

/// `Some(())` when the byte at `at` is `want`.
fn expect(b: &[u8], at: usize, want: u8) -> Option<()> {
    (b.get(at) == Some(&want)).then_some(())
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Proleptic Gregorian (year, month, day) of a count of days since 1970-01-01 (H. Hinnant's
/// `civil_from_days`). Exact for every value `format_utc` can produce (|days| < 2^37).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values below were computed by hand: 2024-05-01 is day 19844 since 1970-01-01
    // (54 years = 19723 days incl. 13 leap days, plus Jan..Apr 2024 = 31+29+31+30 = 121 days),
    // so 2024-05-01T00:00:00Z = 19844 * 86400 = 1_714_521_600 s.
    const MAY_1_2024: i64 = 1_714_521_600 * 1_000_000;

    #[test]
    fn epoch_is_zero() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn a_space_separator_is_read_only_where_asked_for() {
        // Panther's form: a space, 2 to 9 fraction digits, no zone (UTC).
        let t = MAY_1_2024 + (9 * 3600 + 43 * 60 + 54) * 1_000_000 + 723_840;
        assert_eq!(
            parse_rfc3339_or_space("2024-05-01 09:43:54.723840817"),
            Some(t)
        );
        assert_eq!(
            parse_rfc3339_or_space("2024-05-01T09:43:54.723840817Z"),
            Some(t)
        );
        assert_eq!(
            parse_rfc3339_or_space("2024-05-01 11:43:54.723840817+02:00"),
            Some(t)
        );
        assert_eq!(parse_rfc3339("2024-05-01 09:43:54.723840817"), None);
        for bad in [
            "2024-05-01  09:43:54",
            " 2024-05-01 09:43:54",
            "2024-05-01 09:43:54 ",
            "2024-05-01\t09:43:54",
            "2024-05-01_09:43:54",
            "2024-05-01 09:43",
            "2024-02-30 09:43:54",
            "2024-05-01 09:43:54 UTC",
        ] {
            assert_eq!(parse_rfc3339_or_space(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn whole_seconds_without_fraction_parse() {
        assert_eq!(parse_rfc3339("2024-05-01T00:00:00Z"), Some(MAY_1_2024));
        assert_eq!(
            parse_rfc3339("2024-05-01T12:00:00Z"),
            Some(MAY_1_2024 + 12 * 3600 * 1_000_000)
        );
    }

    #[test]
    fn fractions_of_every_length_are_truncated_to_micros() {
        let base = MAY_1_2024;
        assert_eq!(
            parse_rfc3339("2024-05-01T00:00:00.1Z"),
            Some(base + 100_000)
        );
        assert_eq!(
            parse_rfc3339("2024-05-01T00:00:00.12Z"),
            Some(base + 120_000)
        );
        assert_eq!(
            parse_rfc3339("2024-05-01T00:00:00.123Z"),
            Some(base + 123_000)
        );
        assert_eq!(
            parse_rfc3339("2024-05-01T00:00:00.123456Z"),
            Some(base + 123_456)
        );
        assert_eq!(
            parse_rfc3339("2024-05-01T00:00:00.1234567Z"),
            Some(base + 123_456)
        );
        assert_eq!(
            parse_rfc3339("2024-05-01T00:00:00.123456789Z"),
            Some(base + 123_456)
        );
        assert_eq!(
            parse_rfc3339("2024-05-01T00:00:00.999999999Z"),
            Some(base + 999_999)
        );
        assert_eq!(parse_rfc3339("2024-05-01T00:00:00.000Z"), Some(base));
    }

    #[test]
    fn ten_fraction_digits_or_an_empty_fraction_are_rejected() {
        assert_eq!(parse_rfc3339("2024-05-01T00:00:00.1234567890Z"), None);
        assert_eq!(parse_rfc3339("2024-05-01T00:00:00.Z"), None);
        assert_eq!(parse_rfc3339("2024-05-01T00:00:00."), None);
    }

    #[test]
    fn offsets_shift_to_utc() {
        // 14:30 at +02:30 is 12:00 UTC; 07:00 at -05:00 is 12:00 UTC.
        let noon = MAY_1_2024 + 12 * 3600 * 1_000_000;
        assert_eq!(parse_rfc3339("2024-05-01T14:30:00+02:30"), Some(noon));
        assert_eq!(parse_rfc3339("2024-05-01T07:00:00-05:00"), Some(noon));
        assert_eq!(parse_rfc3339("2024-05-01T12:00:00+00:00"), Some(noon));
        assert_eq!(parse_rfc3339("2024-05-01T12:00:00-00:00"), Some(noon));
        // An offset that crosses midnight backwards into April.
        assert_eq!(
            parse_rfc3339("2024-05-01T00:00:00.5+01:00"),
            Some(MAY_1_2024 - 3600 * 1_000_000 + 500_000)
        );
    }

    #[test]
    fn lowercase_t_and_z_are_accepted() {
        assert_eq!(parse_rfc3339("2024-05-01t00:00:00z"), Some(MAY_1_2024));
    }

    #[test]
    fn a_time_without_offset_is_utc() {
        assert_eq!(parse_rfc3339("2024-05-01T00:00:00"), Some(MAY_1_2024));
        assert_eq!(
            parse_rfc3339("2024-05-01T00:00:00.25"),
            Some(MAY_1_2024 + 250_000)
        );
    }

    #[test]
    fn garbage_is_rejected() {
        for s in [
            "",
            "now",
            "2024-05-01",
            "2024-05-01T12:00Z",
            "2024-05-01 12:00:00Z",
            " 2024-05-01T12:00:00Z",
            "2024-05-01T12:00:00Z ",
            "2024-05-01T12:00:00ZZ",
            "2024-05-01T12:00:00+0100",
            "2024-05-01T12:00:00+01",
            "2024-05-01T12:00:00+01:0",
            "2024-5-01T12:00:00Z",
            "24-05-01T12:00:00Z",
            "+2024-05-01T12:00:00Z",
            "2024-05-01T12:00:00GMT",
            "2024-05-01T12:00:000.000000Z",
            "2024-05-01T12:00:00,5Z",
            "2024-05-01T12:00:00.5.5Z",
            "２０２４-05-01T12:00:00Z",
            "2024-05-01T12:00:00Zé",
            "1621305118553",
        ] {
            assert_eq!(parse_rfc3339(s), None, "{s:?} must not parse");
        }
    }

    #[test]
    fn out_of_range_fields_are_rejected() {
        for s in [
            "2024-00-01T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-05-00T00:00:00Z",
            "2024-04-31T00:00:00Z",
            "2024-05-32T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2024-05-01T24:00:00Z",
            "2024-05-01T23:60:00Z",
            "2024-05-01T23:59:60Z",
            "2024-05-01T12:00:00+24:00",
            "2024-05-01T12:00:00+23:60",
        ] {
            assert_eq!(parse_rfc3339(s), None, "{s:?} must not parse");
        }
    }

    #[test]
    fn leap_days_and_century_rules_hold() {
        // 2000 is a leap year (divisible by 400): 2000-02-29 exists, 2000-03-01 is the day after.
        let feb29 = parse_rfc3339("2000-02-29T00:00:00Z");
        let mar1 = parse_rfc3339("2000-03-01T00:00:00Z");
        assert_eq!(feb29, Some(951_782_400 * 1_000_000));
        assert_eq!(
            mar1.zip(feb29).map(|(a, b)| a - b),
            Some(86_400 * 1_000_000)
        );
        // 2024-02-29 exists; 2024-12-31T23:59:59.999999 is one microsecond before 2025.
        assert!(parse_rfc3339("2024-02-29T12:00:00Z").is_some());
        assert_eq!(
            parse_rfc3339("2024-12-31T23:59:59.999999Z"),
            parse_rfc3339("2025-01-01T00:00:00Z").map(|t| t - 1)
        );
    }

    #[test]
    fn extreme_four_digit_years_parse() {
        // 0000-01-01 is 719528 days before 1970-01-01.
        assert_eq!(
            parse_rfc3339("0000-01-01T00:00:00Z"),
            Some(-719_528 * 86_400 * 1_000_000)
        );
        // 9999-12-31T23:59:59Z = 253402300799 s (the usual "max date" of many systems).
        assert_eq!(
            parse_rfc3339("9999-12-31T23:59:59Z"),
            Some(253_402_300_799 * 1_000_000)
        );
        // Before the epoch, with a fraction: 1969-12-31T23:59:59.5Z.
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59.5Z"), Some(-500_000));
    }

    #[test]
    fn formatting_picks_three_or_six_fraction_digits() {
        assert_eq!(format_utc(MAY_1_2024), "2024-05-01T00:00:00Z");
        assert_eq!(format_utc(MAY_1_2024 + 123_000), "2024-05-01T00:00:00.123Z");
        assert_eq!(
            format_utc(MAY_1_2024 + 123_456),
            "2024-05-01T00:00:00.123456Z"
        );
        assert_eq!(format_utc(MAY_1_2024 + 120_000), "2024-05-01T00:00:00.120Z");
        assert_eq!(format_utc(MAY_1_2024 + 1), "2024-05-01T00:00:00.000001Z");
        assert_eq!(format_utc(-500_000), "1969-12-31T23:59:59.500Z");
        assert_eq!(format_utc(-1), "1969-12-31T23:59:59.999999Z");
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        /// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z in microseconds.
        const FIRST: i64 = -719_528 * 86_400 * 1_000_000;
        const LAST: i64 = 253_402_300_800 * 1_000_000 - 1;

        proptest! {
            #[test]
            fn formatted_times_parse_back_to_the_same_micros(micros in FIRST..=LAST) {
                prop_assert_eq!(parse_rfc3339(&format_utc(micros)), Some(micros));
            }

            #[test]
            fn parsing_agrees_with_chrono_on_valid_offset_times(
                y in 0i64..=9999, mo in 1i64..=12, d in 1i64..=31, h in 0i64..24, mi in 0i64..60,
                s in 0i64..60, frac in proptest::option::of("[0-9]{1,9}"), off in -(23 * 60 + 59)..=(23i64 * 60 + 59),
                t in prop_oneof![Just('T'), Just('t')], z in prop_oneof![Just(true), Just(false)],
            ) {
                let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
                let zone = if off == 0 && z {
                    "Z".to_owned()
                } else {
                    format!("{}{:02}:{:02}", if off < 0 { '-' } else { '+' }, off.abs() / 60, off.abs() % 60)
                };
                let text = format!("{y:04}-{mo:02}-{d:02}{t}{h:02}:{mi:02}:{s:02}{frac}{zone}");
                let ours = parse_rfc3339(&text);
                let theirs = chrono::DateTime::parse_from_rfc3339(&text).ok().map(|dt| dt.timestamp_micros());
                prop_assert_eq!(ours, theirs, "{}", text);
            }

            #[test]
            fn arbitrary_text_never_panics(text in "[0-9Tt:.+zZ -]{0,40}|\\PC{0,40}") {
                let _ = parse_rfc3339(&text);
            }

            #[test]
            fn any_micros_format_without_panicking(micros in any::<i64>()) {
                prop_assert!(format_utc(micros).ends_with('Z'));
            }
        }
    }

    #[test]
    fn formatting_the_extremes_does_not_panic() {
        assert_eq!(
            format_utc(253_402_300_799 * 1_000_000),
            "9999-12-31T23:59:59Z"
        );
        assert_eq!(
            format_utc(253_402_300_800 * 1_000_000),
            "+10000-01-01T00:00:00Z"
        );
        assert_eq!(
            format_utc(-719_528 * 86_400 * 1_000_000 - 1),
            "-0001-12-31T23:59:59.999999Z"
        );
        assert!(format_utc(i64::MAX).starts_with('+'));
        assert!(format_utc(i64::MIN).starts_with('-'));
    }
}
